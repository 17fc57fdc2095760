// plugins/languages/python-other-interpreters.ts with real interpreters: pyenv's python3
// (no third-party modules) and Debian's /usr/bin/python3 (which has flask).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import type { AppSpec, ErrorContext, ErrorReport } from '../../core/index.ts';
import { otherInterpreterHint } from '../../plugins/languages/python-other-interpreters.ts';
import { sampleReport } from '../errors/sample-report.ts';

const PYENV_PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim();

function report(interpreter: string, summary: string): { r: ErrorReport; ctx: ErrorContext } {
  const r = sampleReport({ appType: 'asgi', errorClass: 'ModuleNotFoundError', summary, detail: '', properties: { interpreter, python_version: '3.11.7' }, hints: [] });
  const app = { appRoot: r.appRoot, appType: 'asgi', options: {}, sources: {} } as unknown as AppSpec;
  return { r, ctx: { app, output: [] } };
}

describe('python hints: another installed interpreter has the missing module', function () {
  this.timeout(20000);

  it('names /usr/bin/python3 and the python option when it has the module the app lacked', async () => {
    const { r, ctx } = report(PYENV_PYTHON, "No module named 'flask'");
    const out = await otherInterpreterHint(r, ctx, 'passenger:asgi');
    expect(out.hints).to.have.length(1);
    const [hint] = out.hints;
    expect(hint!.title).to.equal('/usr/bin/python3 has "flask": set the python option to use it');
    expect(hint!.body).to.match(/`\/usr\/bin\/python3` \(Python 3\.\d+\.\d+\) can/);
    expect(hint!.body).to.include('"python": "/usr/bin/python3" in Passengerfile.json');
    expect(hint!.command).to.equal('passenger run --python /usr/bin/python3');
    expect(hint!.plugin).to.equal('passenger:asgi');
  });

  it('says nothing when no other interpreter has it, or the app already ran with that one', async () => {
    const nobody = report(PYENV_PYTHON, "No module named 'no_such_module_anywhere_xyz'");
    expect((await otherInterpreterHint(nobody.r, nobody.ctx, 'passenger:asgi')).hints).to.deep.equal([]);
    const same = report('/usr/bin/python3', "No module named 'flask'");
    expect((await otherInterpreterHint(same.r, same.ctx, 'passenger:asgi')).hints).to.deep.equal([]);
  });

  it('asks only interpreters owned by root and not writable by others', async () => {
    const { r, ctx } = report(PYENV_PYTHON, "No module named 'json'");
    // json is everywhere, but a candidate that does not exist or is not root's is never run.
    expect((await otherInterpreterHint(r, ctx, 'passenger:asgi', ['/nonexistent/python3', '/tmp'])).hints).to.deep.equal([]);
  });
});
