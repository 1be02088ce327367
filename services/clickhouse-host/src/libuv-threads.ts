// Every running chDB query or stream fetch occupies a libuv worker thread, and
// libuv starts only 4 unless told otherwise, which would let four slow queries
// stall every other request (and Node's own file I/O). The pool is created on
// first use, so this must run before anything else: main.ts imports it first.
process.env.UV_THREADPOOL_SIZE ??= '32';
