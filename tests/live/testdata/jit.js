// jit.js spins MS milliseconds (default 1000) in hotLoopForOtrace, a named
// function V8 compiles to machine code as it runs hot. Run under
// `node --perf-basic-prof`, V8 names that code in /tmp/perf-PID.map, the
// perf map a profiler reads to name JIT frames. The whole loop is inside
// the function (called once) so that V8 cannot inline it into a caller.
// It prints "jit pid PID" when done.
'use strict';

function hotLoopForOtrace(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 1000000; i++) {
      x = (x * 31 + i) % 1000003;
    }
  }
  return x;
}

const result = hotLoopForOtrace(Number(process.argv[2] || 1000));
console.log(`jit pid ${process.pid} result ${result}`);
