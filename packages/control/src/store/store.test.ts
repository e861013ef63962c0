// The store suite, on SQLite and PostgreSQL: migrations, revisions in commit order, change delivery,
// constraints mapped to catalogue errors, rollback, durability across reopen.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import type { ChangeEvent } from "../model.ts";
import { type Store, openStore } from "./store.ts";
import { type Backend, OPERATOR, expectCode, forEachBackend, seedTenant } from "./test-backends.ts";

async function withStore<T>(url: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ databaseUrl: url });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Minimal rows a subnet needs: a project and a VPC. */
async function seedRows(store: Store) {
  await store.write(async (tx) => {
    const at = tx.at;
    await tx.db.insertInto("projects").values({ id: "proj-1", name: "p", token_hash: "h", created_at: at }).execute();
    await tx.db
      .insertInto("vpcs")
      .values({
        id: "vpc-1",
        project_id: "proj-1",
        name: "",
        cidr: "10.0.0.0/16",
        region: "r1",
        mtu: 1500,
        created_at: at,
      })
      .execute();
    await tx.db
      .insertInto("subnets")
      .values({
        id: "subnet-1",
        project_id: "proj-1",
        vpc_id: "vpc-1",
        name: "",
        cidr: "10.0.1.0/24",
        zone: "z1",
        broadcast: "auto",
        gateway_ip: "10.0.1.1",
        created_at: at,
      })
      .execute();
  });
}

forEachBackend("store", (backend: Backend) => {
  test("migrations run at open and a reopen keeps the data", async () => {
    const url = await backend.newUrl();
    await withStore(url, async (store) => {
      await seedRows(store);
      assert.equal(await store.currentRevision(), 0, "raw writes without record() take no revision");
    });
    await withStore(url, async (store) => {
      const rows = await store.db.selectFrom("subnets").select("id").execute();
      assert.deepEqual(rows, [{ id: "subnet-1" }]);
      const migrations = await sql<{ name: string }>`select name from kysely_migration`.execute(store.db);
      assert.deepEqual(
        migrations.rows.map((r) => r.name),
        [
          "0001_initial",
          "0002_idempotency_keys_committed_with_create",
          "0003_vpc_mtu",
          "0004_indexes_and_address_floor",
          "0005_havip_contest",
        ],
      );
    });
  });

  test("migration 0003 gives the VPCs of an older database an MTU of 1500", async () => {
    const url = await backend.newUrl();
    await withStore(url, async (store) => {
      // Wind the database back to before 0003 (no mtu column, 0003 and later not recorded), with a VPC in it.
      await sql`alter table vpcs drop column mtu`.execute(store.db);
      await sql`alter table subnets drop column alloc_floor`.execute(store.db); // 0004's column
      await sql`alter table havips drop column contested_since`.execute(store.db); // 0005's columns
      await sql`alter table havips drop column contested_claimants`.execute(store.db);
      await sql`delete from kysely_migration where name >= '0003_vpc_mtu'`.execute(store.db);
      await sql`insert into projects (id, name, token_hash, created_at) values ('proj-1', 'p', 'h', 'now')`.execute(
        store.db,
      );
      await sql`insert into vpcs (id, project_id, name, cidr, region, created_at)
        values ('vpc-old', 'proj-1', '', '10.0.0.0/16', 'r1', 'now')`.execute(store.db);
    });
    await withStore(url, async (store) => {
      const rows = await store.db.selectFrom("vpcs").select(["id", "mtu"]).execute();
      assert.deepEqual(rows, [{ id: "vpc-old", mtu: 1500 }]);
      await store.db
        .insertInto("vpcs")
        .values({
          id: "vpc-jumbo",
          project_id: "proj-1",
          name: "",
          cidr: "10.1.0.0/16",
          region: "r1",
          mtu: 8950,
          created_at: "now",
        })
        .execute();
      const jumbo = await store.db.selectFrom("vpcs").select("mtu").where("id", "=", "vpc-jumbo").executeTakeFirst();
      assert.equal(jumbo?.mtu, 8950);
    });
  });

  test("every committed change gets the next revision, gapless, delivered in order exactly once", async () => {
    const url = await backend.newUrl();
    await withStore(url, async (store) => {
      const seen: ChangeEvent[] = [];
      const unsubscribe = store.onChange((e) => seen.push(e));
      const n = 40;
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          store.write(async (tx) => {
            await tx.db.selectFrom("revision_counter").select("revision").execute();
            // Every third write fails after recording: its revision must not be consumed.
            tx.record({ projectId: null, resource: "quotas", id: `q${i}`, action: "updated", data: { i } });
            if (i % 3 === 0) throw new Error("abort");
            tx.record({ projectId: "proj-x", resource: "quotas", id: `q${i}b`, action: "updated", data: null });
            return i;
          }),
        ),
      );
      const ok = results.filter((r) => r.status === "fulfilled").length;
      assert.equal(ok, n - Math.ceil(n / 3));
      const expected = ok * 2;
      assert.equal(await store.currentRevision(), expected);
      const stored = await store.changesSince(0, 1000);
      assert.deepEqual(
        stored.map((e) => e.revision),
        Array.from({ length: expected }, (_, i) => i + 1),
      );
      // The two changes of one transaction are adjacent.
      for (let i = 0; i < stored.length; i += 2) assert.equal(`${stored[i]!.id}b`, stored[i + 1]!.id);
      await waitFor(() => seen.length === expected);
      assert.deepEqual(seen, stored);
      assert.deepEqual(
        (await store.changesSince(0, 1000, "proj-x")).map((e) => e.projectId),
        Array<string>(ok).fill("proj-x"),
      );
      assert.deepEqual(
        (await store.changesSince(expected - 3, 2)).map((e) => e.revision),
        [expected - 2, expected - 1],
      );
      unsubscribe();
    });
  });

  test("writes sharing a commit: one that breaks a constraint is rolled back alone, the others commit", async () => {
    const url = await backend.newUrl();
    await withStore(url, async (store) => {
      await seedRows(store);
      const take = (ip: string, i: number) =>
        store.write(async (tx) => {
          await tx.db
            .insertInto("subnet_addresses")
            .values({ subnet_id: "subnet-1", ip, owner_kind: "havip", owner_id: `h${i}` })
            .execute();
          tx.record({ projectId: null, resource: "quotas", id: `h${i}`, action: "updated", data: null });
          return i;
        });
      // Issued together, so they queue for one group commit; the third takes an address the first took.
      const results = await Promise.allSettled([
        take("10.0.1.10", 0),
        take("10.0.1.11", 1),
        take("10.0.1.10", 2),
        take("10.0.1.12", 3),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "fulfilled", "rejected", "fulfilled"],
      );
      const rejected = results[2];
      assert.ok(rejected.status === "rejected");
      assert.equal((rejected.reason as { code?: string }).code, "InvalidIpAddress.InUse");
      const owners = await store.db.selectFrom("subnet_addresses").select("owner_id").orderBy("owner_id").execute();
      assert.deepEqual(
        owners.map((r) => r.owner_id),
        ["h0", "h1", "h3"],
      );
      const changes = await store.changesSince(0, 100);
      assert.deepEqual(
        changes.map((c) => [c.revision, c.id]),
        [
          [1, "h0"],
          [2, "h1"],
          [3, "h3"],
        ],
      );
    });
  });

  test("a failed write leaves nothing behind", async () => {
    const url = await backend.newUrl();
    await withStore(url, async (store) => {
      await seedRows(store);
      await assert.rejects(
        store.write(async (tx) => {
          await tx.db
            .insertInto("subnet_addresses")
            .values({ subnet_id: "subnet-1", ip: "10.0.1.9", owner_kind: "havip", owner_id: "h" })
            .execute();
          tx.record({ projectId: null, resource: "quotas", id: "x", action: "updated", data: null });
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal((await store.db.selectFrom("subnet_addresses").selectAll().execute()).length, 0);
      assert.equal(await store.currentRevision(), 0);
    });
  });

  test("constraint violations map to catalogue errors", async () => {
    const url = await backend.newUrl();
    await withStore(url, async (store) => {
      await seedRows(store);
      const address = (owner: string) =>
        store.write(async (tx) => {
          await tx.db
            .insertInto("subnet_addresses")
            .values({ subnet_id: "subnet-1", ip: "10.0.1.50", owner_kind: "havip", owner_id: owner })
            .execute();
        });
      await address("a");
      await expectCode(address("b"), "InvalidIpAddress.InUse");

      await store.write(async (tx) => {
        const at = tx.at;
        await tx.db
          .insertInto("eip_pools")
          .values({ id: "pool-1", region: "r1", cidr: "192.0.2.0/24", created_at: at })
          .execute();
        await tx.db
          .insertInto("havips")
          .values({
            id: "havip-1",
            project_id: "proj-1",
            vpc_id: "vpc-1",
            subnet_id: "subnet-1",
            ip_address: "10.0.1.50",
            name: "",
            description: "",
            virtual_mac: "0e:00:00:00:00:01",
            members_set: 0,
            holder_vnic_id: null,
            holder_instance_id: null,
            holder_since: null,
            generation: 0,
            created_at: at,
            updated_at: at,
          })
          .execute();
        await tx.db
          .insertInto("instances")
          .values({ id: "i-1", project_id: "proj-1", vpc_id: "vpc-1", name: "vm", created_at: at })
          .execute();
        await tx.db
          .insertInto("vnics")
          .values({
            id: "eni-1",
            project_id: "proj-1",
            instance_id: "i-1",
            subnet_id: "subnet-1",
            vpc_id: "vpc-1",
            mac_address: "02:00:00:00:00:01",
            ip_address: "10.0.1.2",
            is_primary: 1,
            created_at: at,
          })
          .execute();
      });
      const eip = (id: string, ip: string, target: { havip?: string; vnic?: string }) =>
        store.write(async (tx) => {
          await tx.db
            .insertInto("eips")
            .values({
              id,
              project_id: "proj-1",
              region: "r1",
              pool_id: "pool-1",
              public_ip: ip,
              target_havip_id: target.havip ?? null,
              target_vnic_id: target.vnic ?? null,
              created_at: tx.at,
            })
            .execute();
        });
      await eip("eip-1", "192.0.2.1", { havip: "havip-1" });
      await expectCode(eip("eip-2", "192.0.2.2", { havip: "havip-1" }), "QuotaExceeded.EipsPerHaVip");
      await eip("eip-3", "192.0.2.3", { vnic: "eni-1" });
      await expectCode(eip("eip-4", "192.0.2.4", { vnic: "eni-1" }), "IncorrectState.TargetHasEip");
      await expectCode(eip("eip-5", "192.0.2.5", { havip: "havip-1", vnic: "eni-1" }), "IncorrectState.EipBound");
      // Many unbound EIPs are fine (NULLs do not collide), but a public address is unique.
      await eip("eip-6", "192.0.2.6", {});
      await eip("eip-7", "192.0.2.7", {});
      await assert.rejects(
        eip("eip-8", "192.0.2.7", {}),
        (e: unknown) => e instanceof Error && !("code" in e && e.code === "InvalidIpAddress.InUse"),
      );
      // The same vNIC twice in one member list.
      const member = () =>
        store.write(async (tx) => {
          await tx.db
            .insertInto("havip_members")
            .values({ havip_id: "havip-1", vnic_id: "eni-1", instance_id: "i-1", position: 0 })
            .execute();
        });
      await member();
      await expectCode(member(), "InvalidMember.Duplicate");
      // MACs are unique.
      await assert.rejects(
        store.write(async (tx) => {
          await tx.db
            .insertInto("vnics")
            .values({
              id: "eni-2",
              project_id: "proj-1",
              instance_id: "i-1",
              subnet_id: "subnet-1",
              vpc_id: "vpc-1",
              mac_address: "02:00:00:00:00:01",
              ip_address: "10.0.1.3",
              is_primary: 0,
              created_at: tx.at,
            })
            .execute();
        }),
      );
    });
  });

  test("writes committed through the service survive closing and reopening", async () => {
    const url = await backend.newUrl();
    const first = await backend.open({ databaseUrl: url });
    const { actor, subnet } = await seedTenant(first);
    const havip = await first.createHaVip(actor, { subnetId: subnet.id, ipAddress: "10.0.1.50" });
    const revision = await first.currentRevision();
    await first.close();
    const second = await backend.open({ databaseUrl: url });
    assert.deepEqual(await second.getHaVip(actor, havip.id), havip);
    assert.equal(await second.currentRevision(), revision);
    await expectCode(
      second.createHaVip(actor, { subnetId: subnet.id, ipAddress: "10.0.1.50" }),
      "InvalidIpAddress.InUse",
    );
    assert.equal((await second.listProjects(OPERATOR, {})).items.length, 1);
    await second.close();
  });

  if (backend.name === "sqlite") {
    test("SQLite runs in WAL mode with foreign keys on", async () => {
      const url = await backend.newUrl();
      await withStore(url, async (store) => {
        const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
        assert.equal(mode.rows[0]?.journal_mode, "wal");
        const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
        assert.equal(fk.rows[0]?.foreign_keys, 1);
        await assert.rejects(
          store.write(async (tx) => {
            await tx.db
              .insertInto("vpcs")
              .values({
                id: "vpc-x",
                project_id: "proj-none",
                name: "",
                cidr: "10.0.0.0/16",
                region: "r",
                mtu: 1500,
                created_at: tx.at,
              })
              .execute();
          }),
          /FOREIGN KEY/,
        );
      });
    });
  }
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}
