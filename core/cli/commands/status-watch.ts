// `passenger status --watch`: the status table, redrawn in place every two
// seconds until q or Ctrl-C. Reads keys raw when stdin is a terminal, and
// lines otherwise (so a script can send "q" too).
import { describeError } from '../../errors/passenger-error.ts';
import { fetchStatus, renderStatus } from './status.ts';

const HOME_AND_CLEAR = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
export const WATCH_INTERVAL_MS = 2000;

export function watchStatus(flags: Record<string, string | boolean>, appDir: string | undefined, out: NodeJS.WriteStream = process.stdout, input: NodeJS.ReadStream = process.stdin): Promise<number> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const raw = input.isTTY === true;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      input.off('data', onKey);
      process.off('SIGINT', onInterrupt);
      if (raw) input.setRawMode(false);
      // A paused pipe would still keep the process alive; the command is over.
      input.destroy();
      out.write(SHOW_CURSOR + '\n');
      resolve(code);
    };
    const onKey = (d: Buffer) => {
      const s = d.toString();
      if (s.includes('q') || s.includes('Q') || s.includes('\x03')) finish(0);
    };
    const onInterrupt = () => finish(0);
    const draw = async () => {
      let frame: string;
      let gone = false;
      try {
        frame = renderStatus(await fetchStatus(flags, appDir));
      } catch (e) {
        frame = `cannot read the instance's status: ${describeError(e)}\n`;
        gone = true;
      }
      if (done) return;
      const stamp = new Date().toLocaleTimeString();
      out.write(HOME_AND_CLEAR + frame + `\nupdated ${stamp}; every ${WATCH_INTERVAL_MS / 1000} s; q or Ctrl-C to quit\n`);
      // The instance stopped (or never was): nothing more to watch.
      if (gone) { finish(1); return; }
      timer = setTimeout(() => void draw(), WATCH_INTERVAL_MS);
    };
    if (raw) input.setRawMode(true);
    input.on('data', onKey);
    input.resume();
    process.on('SIGINT', onInterrupt);
    out.write(HIDE_CURSOR);
    void draw();
  });
}
