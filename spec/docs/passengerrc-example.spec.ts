import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderExampleConfig } from '../../core/config/example-file.ts';
import { bootedKernel } from '../support/kernel.ts';
import { repoRoot } from '../support/passenger.ts';

describe('.passengerrc.example', () => {
  it('documents every option of the core and the built-in plugins, as generated (npm run gen:example)', () => {
    const kernel = bootedKernel();
    const file = readFileSync(join(repoRoot, '.passengerrc.example'), 'utf8');
    expect(file).to.equal(renderExampleConfig(kernel.options.list()));
    for (const o of kernel.options.list()) expect(file).to.include(`# ${o.name}:`);
  });
});
