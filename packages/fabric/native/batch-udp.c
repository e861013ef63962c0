// Batched I/O for the fabric: one IPv4 UDP socket (`open`) or one AF_PACKET socket bound to an interface
// (`openPacket`, raw Ethernet frames of a local veth attachment), read with recvmmsg(2) and written with
// sendmmsg(2), so the agent pays one system call and one JS entry per batch instead of per datagram. Node-API only (plus libuv,
// for polling the socket on Node's own loop), so one build loads in every Node version with Node-API 8.
//
// JS sees four ArrayBuffers made once at open: the receive ring and the send ring (SLOTS slots of SLOT_SIZE
// bytes each) and their metadata, META_WORDS uint32 per slot: [length, IPv4 address (host order), port,
// flags] (a packet socket has no address: words 1 and 2 stay 0). On readable, the socket is drained with recvmmsg into the receive ring and `onBatch(count)` is
// called once per recvmmsg. `flush(handle, count)` sends the first `count` slots of the send ring. Counters
// are doubles in a fifth ArrayBuffer. Nothing here ever blocks: a send the kernel has no room for is dropped
// and counted.
//
// Receive moderation (`moderate(handle, holdUs, minFrames)`, off until called): when one wake-up read at least
// `minFrames` datagrams, the socket is not polled again until `holdUs` later (a timerfd), and then read in one go;
// while that read still finds `minFrames` or more the hold repeats, else polling resumes. What NICs do with
// interrupt coalescing: under a flood, a wake-up per few frames (for this process, for the sender that wakes
// it, and for the receiver its batch wakes) becomes one per hold with bigger batches; a trickle (an
// announcement, a probe) never reaches `minFrames` and is read at once.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#define SLOT_SIZE 9216 /* a 9000-byte MTU frame with its Ethernet and VXLAN headers fits */
#define SLOTS 64
#define META_WORDS 4
#define MAX_BATCHES_PER_WAKE 8 /* then yield to the rest of the loop (timers, the control socket) */
#define MAX_HOLD_US 100000   /* receive moderation: a hold is at most 100 ms */
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23 /* Linux 4.20; older libc headers lack the name */
#endif
#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif

/* What the socket carries: UDP datagrams with their peer's address, or Ethernet frames of one interface. */
enum { KIND_UDP, KIND_PACKET };

/* Counter indexes, mirrored in batch-socket.ts. */
enum { C_SENT, C_SEND_ERRORS, C_SEND_DROPPED, C_RECEIVED, C_BATCHES, C_RECEIVE_ERRORS, C_TRUNCATED, C_HOLDS, C_COUNT };

typedef struct {
  napi_env env;
  int kind;
  int fd;
  int closed;
  int hooked; /* the environment cleanup hook is installed */
  uv_poll_t *poll;
  /* Receive moderation: a timerfd polled on the loop while the socket is held (not polled); -1 until moderate(). */
  int tfd;
  uv_poll_t *timer_poll;
  int holding;
  long hold_ns; /* 0: off */
  int hold_min_frames;
  napi_async_context async;
  napi_ref on_batch, resource, rx_ref, rx_meta_ref, tx_ref, tx_meta_ref, counters_ref;
  uint8_t *rx, *tx;
  uint32_t *rx_meta, *tx_meta;
  double *counters;
  struct mmsghdr rx_msgs[SLOTS], tx_msgs[SLOTS];
  struct iovec rx_iov[SLOTS], tx_iov[SLOTS];
  struct sockaddr_in rx_from[SLOTS], tx_to[SLOTS];
} batch_socket;

static const napi_type_tag SOCKET_TAG = {0x6861766970626174ULL, 0x6368756470000001ULL};

#define CHECK(env, call)                                                                                     \
  do {                                                                                                      \
    if ((call) != napi_ok) {                                                                                \
      napi_throw_error((env), NULL, "batch-udp: Node-API call failed: " #call);                             \
      return NULL;                                                                                          \
    }                                                                                                       \
  } while (0)

static void free_poll(uv_handle_t *handle) { free(handle); }

static void delete_ref(napi_env env, napi_ref *ref) {
  if (*ref != NULL) napi_delete_reference(env, *ref);
  *ref = NULL;
}

/* Stops polling and closes the socket; safe to call more than once. `from_hook`: the environment is going away. */
static void shut(batch_socket *s, int from_hook);

static void on_env_cleanup(void *arg) { shut((batch_socket *)arg, 1); }

static void shut(batch_socket *s, int from_hook) {
  if (s->closed) return;
  s->closed = 1;
  if (s->poll != NULL) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, free_poll);
    s->poll = NULL;
  }
  if (s->timer_poll != NULL) {
    uv_poll_stop(s->timer_poll);
    uv_close((uv_handle_t *)s->timer_poll, free_poll);
    s->timer_poll = NULL;
  }
  if (s->tfd >= 0) close(s->tfd);
  s->tfd = -1;
  close(s->fd);
  s->fd = -1;
  if (s->hooked && !from_hook) napi_remove_env_cleanup_hook(s->env, on_env_cleanup, s);
  s->hooked = 0;
  if (s->async != NULL) napi_async_destroy(s->env, s->async);
  s->async = NULL;
  delete_ref(s->env, &s->on_batch);
  delete_ref(s->env, &s->resource);
  delete_ref(s->env, &s->rx_ref);
  delete_ref(s->env, &s->rx_meta_ref);
  delete_ref(s->env, &s->tx_ref);
  delete_ref(s->env, &s->tx_meta_ref);
  delete_ref(s->env, &s->counters_ref);
}

/* The handle was collected: close what the program forgot to, then free the state. */
static void finalize_socket(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  batch_socket *s = data;
  shut(s, 0);
  free(s);
}

/* Calls onBatch(count) as a proper callback: with an async context, so microtasks and nextTicks run after it. */
static int deliver(batch_socket *s, unsigned count) {
  napi_env env = s->env;
  napi_value resource, fn, argv[1], result;
  if (napi_get_reference_value(env, s->resource, &resource) != napi_ok ||
      napi_get_reference_value(env, s->on_batch, &fn) != napi_ok || napi_create_uint32(env, count, &argv[0]) != napi_ok)
    return -1;
  napi_status status = napi_make_callback(env, s->async, resource, fn, 1, argv, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (status != napi_ok || pending) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    return -1;
  }
  return 0;
}

/* Reads what is queued (up to MAX_BATCHES_PER_WAKE batches), calling onBatch per batch; returns how many. */
static int drain(batch_socket *s) {
  int total = 0;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return 0;
  for (int round = 0; round < MAX_BATCHES_PER_WAKE && !s->closed; round++) {
    for (int i = 0; i < SLOTS; i++) {
      s->rx_msgs[i].msg_hdr.msg_namelen = s->kind == KIND_UDP ? sizeof(struct sockaddr_in) : 0;
      s->rx_msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(s->fd, s->rx_msgs, SLOTS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) s->counters[C_RECEIVE_ERRORS]++;
      break;
    }
    if (n == 0) break;
    for (int i = 0; i < n; i++) {
      uint32_t *m = s->rx_meta + i * META_WORDS;
      int truncated = (s->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      m[0] = s->rx_msgs[i].msg_len;
      m[1] = s->kind == KIND_UDP ? ntohl(s->rx_from[i].sin_addr.s_addr) : 0;
      m[2] = s->kind == KIND_UDP ? ntohs(s->rx_from[i].sin_port) : 0;
      m[3] = truncated ? 1 : 0;
      if (truncated) s->counters[C_TRUNCATED]++;
    }
    total += n;
    s->counters[C_RECEIVED] += n;
    s->counters[C_BATCHES]++;
    if (deliver(s, (unsigned)n) != 0 || n < SLOTS) break; /* a short batch: the queue is empty */
  }
  napi_close_handle_scope(s->env, scope);
  return total;
}

static void on_readable(uv_poll_t *handle, int status, int events);

/* Polls the socket again (the hold ended, or moderation was turned off). */
static void release(batch_socket *s) {
  struct itimerspec off = {{0, 0}, {0, 0}};
  if (s->tfd >= 0) timerfd_settime(s->tfd, 0, &off, NULL);
  if (s->holding && !s->closed) uv_poll_start(s->poll, UV_READABLE, on_readable);
  s->holding = 0;
}

/* Stops polling the socket and reads it again `hold_ns` from now (receive moderation). */
static void hold(batch_socket *s) {
  struct itimerspec when = {.it_value = {.tv_sec = s->hold_ns / 1000000000L, .tv_nsec = s->hold_ns % 1000000000L}};
  if (timerfd_settime(s->tfd, 0, &when, NULL) != 0) {
    release(s); /* cannot hold: poll */
    return;
  }
  if (!s->holding) uv_poll_stop(s->poll);
  s->holding = 1;
  s->counters[C_HOLDS]++;
}

/* Whether a wake-up that read `total` datagrams calls for a hold. */
static int flooded(const batch_socket *s, int total) { return s->hold_ns > 0 && total >= s->hold_min_frames; }

static void on_hold_over(uv_poll_t *handle, int status, int events) {
  batch_socket *s = handle->data;
  (void)status;
  (void)events;
  if (s->closed) return;
  uint64_t expirations;
  if (read(s->tfd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations || !s->holding) return;
  int total = drain(s);
  if (s->closed) return;
  if (flooded(s, total)) hold(s); /* still a flood: hold again */
  else release(s);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  batch_socket *s = handle->data;
  if (s->closed) return;
  if (status < 0 || !(events & UV_READABLE)) {
    s->counters[C_RECEIVE_ERRORS]++;
    return;
  }
  int total = drain(s);
  if (!s->closed && flooded(s, total)) hold(s);
}

static batch_socket *unwrap(napi_env env, napi_value value) {
  bool tagged = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, value, &SOCKET_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "batch-udp: not a socket handle");
    return NULL;
  }
  return data;
}

static napi_value make_buffer(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value buffer;
  if (napi_create_arraybuffer(env, bytes, data, &buffer) != napi_ok) return NULL;
  memset(*data, 0, bytes);
  if (napi_create_reference(env, buffer, 1, ref) != napi_ok) return NULL; /* C writes into it: keep it alive */
  return buffer;
}

static void throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  char code[32];
  snprintf(message, sizeof message, "batch-udp: %s: %s", what, strerror(err));
  snprintf(code, sizeof code, "%s", err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ESYS");
  napi_throw_error(env, code, message);
}

static int set_property(napi_env env, napi_value object, const char *name, napi_value value) {
  return value != NULL && napi_set_named_property(env, object, name, value) == napi_ok ? 0 : -1;
}

static napi_value number(napi_env env, double x) {
  napi_value v;
  return napi_create_double(env, x, &v) == napi_ok ? v : NULL;
}

/*
 * Wraps an open, bound socket: the handle, the rings and the poll on Node's loop. Takes ownership of `fd`
 * (closed on failure). `port` is reported to JS (0 for a packet socket).
 */
static napi_value wrap_socket(napi_env env, int fd, int kind, napi_value on_batch, int port) {
  batch_socket *s = calloc(1, sizeof *s);
  napi_value result, handle;
  if (s == NULL || napi_create_external(env, s, finalize_socket, NULL, &handle) != napi_ok) {
    free(s);
    close(fd);
    napi_throw_error(env, NULL, "batch-udp: out of memory");
    return NULL;
  }
  s->tfd = -1;
  /* From here the handle owns `s` (its finalizer frees it) and every failure goes through shut(). */
  s->env = env;
  s->kind = kind;
  s->fd = fd;
  napi_value resource, name;
  uv_loop_t *loop = NULL;
  size_t meta_bytes = SLOTS * META_WORDS * sizeof(uint32_t);
  int failed = napi_type_tag_object(env, handle, &SOCKET_TAG) != napi_ok ||
               napi_create_object(env, &result) != napi_ok || napi_create_object(env, &resource) != napi_ok ||
               napi_create_string_utf8(env, "HavipBatchUdp", NAPI_AUTO_LENGTH, &name) != napi_ok ||
               napi_async_init(env, resource, name, &s->async) != napi_ok ||
               napi_create_reference(env, resource, 1, &s->resource) != napi_ok ||
               napi_create_reference(env, on_batch, 1, &s->on_batch) != napi_ok;
  if (!failed) {
    failed |= set_property(env, result, "handle", handle);
    failed |= set_property(env, result, "rx", make_buffer(env, SLOTS * SLOT_SIZE, (void **)&s->rx, &s->rx_ref));
    failed |= set_property(env, result, "tx", make_buffer(env, SLOTS * SLOT_SIZE, (void **)&s->tx, &s->tx_ref));
    failed |= set_property(env, result, "rxMeta", make_buffer(env, meta_bytes, (void **)&s->rx_meta, &s->rx_meta_ref));
    failed |= set_property(env, result, "txMeta", make_buffer(env, meta_bytes, (void **)&s->tx_meta, &s->tx_meta_ref));
    failed |= set_property(env, result, "counters",
                           make_buffer(env, C_COUNT * sizeof(double), (void **)&s->counters, &s->counters_ref));
    failed |= set_property(env, result, "port", number(env, port));
    failed |= set_property(env, result, "slotSize", number(env, SLOT_SIZE));
    failed |= set_property(env, result, "slots", number(env, SLOTS));
  }
  if (!failed) {
    s->poll = calloc(1, sizeof *s->poll);
    failed = s->poll == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, s->poll, fd) != 0;
    if (failed) {
      free(s->poll);
      s->poll = NULL;
    }
  }
  if (failed) {
    shut(s, 0);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, NULL, "batch-udp: cannot set the socket up");
    return NULL;
  }
  s->poll->data = s;
  for (int i = 0; i < SLOTS; i++) {
    s->rx_iov[i] = (struct iovec){.iov_base = s->rx + (size_t)i * SLOT_SIZE, .iov_len = SLOT_SIZE};
    s->tx_iov[i] = (struct iovec){.iov_base = s->tx + (size_t)i * SLOT_SIZE, .iov_len = 0};
    s->tx_to[i] = (struct sockaddr_in){.sin_family = AF_INET};
    if (kind == KIND_UDP) {
      s->rx_msgs[i].msg_hdr = (struct msghdr){.msg_name = &s->rx_from[i], .msg_iov = &s->rx_iov[i], .msg_iovlen = 1};
      s->tx_msgs[i].msg_hdr = (struct msghdr){.msg_name = &s->tx_to[i],
                                              .msg_namelen = sizeof(struct sockaddr_in),
                                              .msg_iov = &s->tx_iov[i],
                                              .msg_iovlen = 1};
    } else { /* bound to one interface: frames come from it and go to it, no address either way */
      s->rx_msgs[i].msg_hdr = (struct msghdr){.msg_iov = &s->rx_iov[i], .msg_iovlen = 1};
      s->tx_msgs[i].msg_hdr = (struct msghdr){.msg_iov = &s->tx_iov[i], .msg_iovlen = 1};
    }
  }
  napi_add_env_cleanup_hook(env, on_env_cleanup, s);
  s->hooked = 1;
  uv_poll_start(s->poll, UV_READABLE, on_readable);
  return result;
}

/* open(address, port, bufferBytes, onBatch) → { handle, rx, rxMeta, tx, txMeta, counters, port, ... } */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char address[64];
  size_t address_len = 0;
  int32_t port = 0, buffer_bytes = 0;
  napi_valuetype fn_type = napi_undefined;
  if (argc < 4 || napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok ||
      napi_get_value_int32(env, argv[2], &buffer_bytes) != napi_ok || napi_typeof(env, argv[3], &fn_type) != napi_ok ||
      fn_type != napi_function || port < 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "batch-udp: open(address, port, bufferBytes, onBatch)");
    return NULL;
  }
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, address, &local.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "batch-udp: address is not an IPv4 address");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  if (buffer_bytes > 0) { /* the kernel caps these at net.core.rmem_max / wmem_max, as for dgram */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  socklen_t local_len = sizeof local;
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0 ||
      getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind", err);
    return NULL;
  }
  return wrap_socket(env, fd, KIND_UDP, argv[3], ntohs(local.sin_port));
}

/* openPacket(ifname, bufferBytes, onBatch) → the same object as open (port 0). Raw Ethernet frames of one
   interface: what the interface receives is read, what is flushed leaves through it. */
static napi_value js_open_packet(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char ifname[IF_NAMESIZE + 1];
  size_t ifname_len = 0;
  int32_t buffer_bytes = 0;
  napi_valuetype fn_type = napi_undefined;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &ifname_len) != napi_ok ||
      ifname_len == 0 || ifname_len >= IF_NAMESIZE || napi_get_value_int32(env, argv[1], &buffer_bytes) != napi_ok ||
      napi_typeof(env, argv[2], &fn_type) != napi_ok || fn_type != napi_function) {
    napi_throw_type_error(env, NULL, "batch-udp: openPacket(ifname, bufferBytes, onBatch)");
    return NULL;
  }
  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) {
    throw_errno(env, "no such interface", errno);
    return NULL;
  }
  /* Protocol 0: nothing is received until bind names the interface, so no frame of another one slips in. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket(AF_PACKET)", errno);
    return NULL;
  }
  int one = 1;
  if (buffer_bytes > 0) { /* as root, past net.core.rmem_max / wmem_max; else capped by them */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  /* Our own sends must not come back as received frames. */
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "PACKET_IGNORE_OUTGOING", err);
    return NULL;
  }
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one); /* an optimisation: fine without */
  struct sockaddr_ll local = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind(AF_PACKET)", err);
    return NULL;
  }
  return wrap_socket(env, fd, KIND_PACKET, argv[2], 0);
}

/* flush(handle, count) → datagrams the kernel took. Sends slots 0..count-1 of the send ring. */
static napi_value js_flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t count = 0;
  batch_socket *s = argc < 2 ? NULL : unwrap(env, argv[0]);
  if (s == NULL || napi_get_value_uint32(env, argv[1], &count) != napi_ok) return NULL;
  if (s->closed) return number(env, 0);
  if (count > SLOTS) count = SLOTS;
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t *m = s->tx_meta + i * META_WORDS;
    s->tx_iov[i].iov_len = m[0] < SLOT_SIZE ? m[0] : SLOT_SIZE;
    if (s->kind == KIND_UDP) {
      s->tx_to[i].sin_addr.s_addr = htonl(m[1]);
      s->tx_to[i].sin_port = htons((uint16_t)m[2]);
    }
  }
  uint32_t done = 0, sent = 0;
  while (done < count) {
    int n = sendmmsg(s->fd, s->tx_msgs + done, count - done, MSG_DONTWAIT);
    if (n > 0) {
      done += (uint32_t)n;
      sent += (uint32_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      s->counters[C_SEND_DROPPED] += count - done; /* the send buffer is full: never wait for room */
      break;
    } else {
      s->counters[C_SEND_ERRORS]++; /* the kernel refused this datagram (e.g. EMSGSIZE): go on with the next */
      done++;
    }
  }
  s->counters[C_SENT] += sent;
  return number(env, sent);
}

/* moderate(handle, holdUs, minFrames): receive moderation (see the top of this file); holdUs 0 turns it off. */
static napi_value js_moderate(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t hold_us = 0, min_frames = 0;
  batch_socket *s = argc < 3 ? NULL : unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (napi_get_value_uint32(env, argv[1], &hold_us) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &min_frames) != napi_ok || hold_us > MAX_HOLD_US || min_frames < 1) {
    napi_throw_range_error(env, NULL, "batch-udp: moderate(handle, holdUs 0..100000, minFrames >= 1)");
    return NULL;
  }
  if (s->closed) return NULL;
  if (hold_us > 0 && s->tfd < 0) {
    uv_loop_t *loop = NULL;
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0) {
      throw_errno(env, "timerfd_create", errno);
      return NULL;
    }
    uv_poll_t *poll = calloc(1, sizeof *poll);
    if (poll == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, poll, tfd) != 0) {
      free(poll);
      close(tfd);
      napi_throw_error(env, NULL, "batch-udp: cannot poll the moderation timer");
      return NULL;
    }
    poll->data = s;
    s->tfd = tfd;
    s->timer_poll = poll;
    uv_poll_start(poll, UV_READABLE, on_hold_over);
  }
  s->hold_ns = (long)hold_us * 1000L;
  s->hold_min_frames = (int)min_frames;
  if (hold_us == 0) release(s);
  return NULL;
}

/* close(handle): stops polling and closes the socket; a second call does nothing. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket *s = argc < 1 ? NULL : unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  shut(s, 0);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor methods[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openPacket", NULL, js_open_packet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flush", NULL, js_flush, NULL, NULL, NULL, napi_enumerable, NULL},
      {"moderate", NULL, js_moderate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  return exports;
}
