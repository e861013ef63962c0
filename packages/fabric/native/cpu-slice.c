// The calling thread's CPU time slice under Linux's fair scheduler (EEVDF, Linux 6.12 and later: a custom slice
// set with sched_setattr(2)'s sched_runtime for SCHED_OTHER/SCHED_BATCH). A thread with a shorter slice gets an
// earlier virtual deadline, so when it wakes it preempts a thread with the default slice (0.75–3 ms) instead of
// waiting for that slice to end; its share of the CPU stays the same (nice decides that, not the slice). The
// fabric's forwarding thread asks for a short one: an announcement that arrives while another process runs on
// its CPU is forwarded at once, not a millisecond later.
//
//   get()      → the thread's slice in nanoseconds as the kernel reports it (0: no custom slice reported)
//   set(ns)    → sets it (the kernel clamps to 0.1–100 ms) and returns get() afterwards; throws with errno's
//                text when the kernel refuses, or when the thread is not under the fair scheduler
// Node-API only, like batch-udp.c.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct sched_attr (include/uapi/linux/sched/types.h, SCHED_ATTR_SIZE_VER1); glibc 2.36 has no wrapper. */
struct slice_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

static int get_attr(struct slice_attr *a) {
  memset(a, 0, sizeof *a);
  return (int)syscall(SYS_sched_getattr, 0, a, sizeof *a, 0);
}

static napi_value fail(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "cpu-slice: %s: %s", what, strerror(err));
  napi_throw_error(env, "ESYS", message);
  return NULL;
}

static napi_value number(napi_env env, double x) {
  napi_value v;
  return napi_create_double(env, x, &v) == napi_ok ? v : NULL;
}

static napi_value js_get(napi_env env, napi_callback_info info) {
  (void)info;
  struct slice_attr a;
  if (get_attr(&a) != 0) return fail(env, "sched_getattr", errno);
  return number(env, (double)a.sched_runtime);
}

static napi_value js_set(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double ns = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_double(env, argv[0], &ns) != napi_ok || !(ns >= 0) || ns > 1e9) {
    napi_throw_type_error(env, NULL, "cpu-slice: set(ns) takes a number of nanoseconds from 0 to 1e9");
    return NULL;
  }
  struct slice_attr a;
  if (get_attr(&a) != 0) return fail(env, "sched_getattr", errno);
  if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) {
    return fail(env, "the thread is not under the fair scheduler (a real-time policy was set)", EPERM);
  }
  /* Same policy and nice; only the slice changes. */
  a.size = sizeof a;
  a.sched_flags = 0;
  a.sched_runtime = (uint64_t)ns;
  a.sched_deadline = 0;
  a.sched_period = 0;
  if (syscall(SYS_sched_setattr, 0, &a, 0) != 0) return fail(env, "sched_setattr", errno);
  return js_get(env, info);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor methods[] = {
      {"get", NULL, js_get, NULL, NULL, NULL, napi_enumerable, NULL},
      {"set", NULL, js_set, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  return exports;
}
