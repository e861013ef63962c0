// Projects, tokens, authentication, quotas.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_QUOTAS } from "../model.ts";
import { OPERATOR, OPERATOR_TOKEN, expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

forEachBackend("projects, tokens and quotas", (backend) => {
  test("a project token is shown once, stored hashed, and authenticates as that project", async () => {
    const svc = await backend.open();
    const { project, token } = await svc.createProject(OPERATOR, { name: "acme" });
    assert.match(project.id, /^proj-[0-9a-f]{17}$/);
    assert.equal(project.name, "acme");
    assert.ok(token.length >= 40);
    assert.deepEqual(await svc.authenticate(token), { kind: "project", projectId: project.id });
    assert.deepEqual(await svc.authenticate(OPERATOR_TOKEN), { kind: "operator" });
    assert.equal(await svc.authenticate(`${token}x`), null);
    assert.equal(await svc.authenticate(""), null);
    assert.equal(await svc.authenticate(OPERATOR_TOKEN.slice(0, -1)), null);
    const second = await svc.createProject(OPERATOR, { name: "acme" });
    assert.notEqual(second.token, token);
    // The token appears nowhere in what the API returns or logs as events.
    const events = await svc.eventsSince(OPERATOR, 0, 100);
    assert.ok(!JSON.stringify(events).includes(token));
    assert.ok(!JSON.stringify(await svc.listProjects(OPERATOR, {})).includes(token));
  });

  test("operator-only methods refuse project actors", async () => {
    const svc = await backend.open();
    const { actor } = await seedTenant(svc);
    await expectCode(svc.createProject(actor, { name: "x" }), "Forbidden");
    await expectCode(svc.listProjects(actor, {}), "Forbidden");
    await expectCode(svc.setQuotas(actor, { haVipsPerProject: 1 }), "Forbidden");
    await expectCode(svc.createProject(OPERATOR, { name: "" }), "InvalidParameter");
    assert.deepEqual(await svc.getQuotas(actor), DEFAULT_QUOTAS);
  });

  test("quotas: defaults, deployment options, operator settings that survive a restart", async () => {
    const url = await backend.newUrl();
    const svc = await backend.open({ databaseUrl: url, quotas: { membersPerHaVip: 4 } });
    assert.deepEqual(await svc.getQuotas(OPERATOR), { ...DEFAULT_QUOTAS, membersPerHaVip: 4 });
    const set = await svc.setQuotas(OPERATOR, { haVipsPerVnic: 2 });
    assert.deepEqual(set, { ...DEFAULT_QUOTAS, membersPerHaVip: 4, haVipsPerVnic: 2 });
    await expectCode(svc.setQuotas(OPERATOR, { haVipsPerVnic: -1 }), "InvalidParameter");
    await expectCode(svc.setQuotas(OPERATOR, { haVipsPerVnic: 1.5 }), "InvalidParameter");
    await expectCode(svc.setQuotas(OPERATOR, { nope: 1 } as never), "InvalidParameter");
    await svc.close();
    const again = await backend.open({ databaseUrl: url, quotas: { membersPerHaVip: 4 } });
    assert.deepEqual(await again.getQuotas(OPERATOR), set);
  });

  test("openControlService refuses an empty operator token and bad quota options", async () => {
    await assert.rejects(backend.open({ operatorToken: "" }), /operatorToken/);
    await assert.rejects(backend.open({ operatorToken: "  " }), /operatorToken/);
    await assert.rejects(backend.open({ quotas: { membersPerHaVip: -2 } }), /membersPerHaVip/);
  });
});
