// The chaos suite's short mode (chaos/, `npm run chaos -- --short`): every
// fault once, briefly, under load against a real app, asserting what must hold
// (each fault's own properties: failures only where expected, slow clients not
// stopping others, the core surviving the corpus...) and, for every fault, no
// process left behind and no instance directory left by a server that could
// remove it. The figures themselves are not asserted (no timing assertions):
// `npm run chaos` writes them to docs/reliability.md.
import { expect } from 'chai';
import { faults } from '../../chaos/faults/index.ts';
import { runFault } from '../../chaos/harness.ts';
import { removeApps } from '../support/tmp-app.ts';

describe('chaos suite (short mode)', function () {
  this.timeout(90000);
  afterEach(() => removeApps());

  for (const fault of faults) {
    const app = fault.apps[0]!;
    it(`${fault.name} (${app}): ${fault.description}`, async () => {
      const r = await runFault(fault, app, 'short');
      expect(r.violations, `${r.notes}`).to.deep.equal([]);
      expect(r.leftovers).to.equal(0);
      expect(r.sent, 'the load loop ran').to.be.above(0);
      expect(r.sent - r.failed, 'some requests succeeded').to.be.above(0);
    });
  }
});
