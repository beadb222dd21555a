// Preloaded into a server with NODE_OPTIONS="--import ./bench/support/cpu-profile.mjs" (node refuses
// --cpu-prof there): profiles the whole process and writes $BENCH_PROFILE_DIR/server-<pid>.cpuprofile
// when it exits, for Chrome DevTools or speedscope.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 100 });
session.post('Profiler.start');
let written = false;
// The inspector answers synchronously, so this also works from an 'exit' listener.
process.on('exit', () => {
  if (written) return;
  written = true;
  session.post('Profiler.stop', (error, result) => {
    if (error === null) {
      const path = join(process.env.BENCH_PROFILE_DIR ?? '.', `server-${process.pid}.cpuprofile`);
      writeFileSync(path, JSON.stringify(result.profile));
    }
  });
});
