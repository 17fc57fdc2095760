// Renders .passengerrc.example from the option registry, so the documented
// options can never drift from the real ones (a spec compares the two).
import { CORE_PLUGIN_NAME } from '../registries/registry.ts';
import type { OptionDef } from '../registries/options.ts';
import { envVarName, flagName } from './merge.ts';

function yamlValue(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return /^[\w./-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

const EXAMPLES: Record<string, unknown> = {
  plugins: ['passenger-plugin-example', './local-plugin.mjs'],
  envvars: { FEATURE_FLAG: 'on' },
  app_start_command: './server --port $PORT',
};

export function renderExampleConfig(defs: readonly OptionDef[]): string {
  const head = `# .passengerrc.example: every option, with its default.
#
# Put options in one of these files in the app directory (first found wins):
#   Passengerfile.json, .passengerrc (YAML or JSON), .passengerrc.{json,yaml,yml,js,cjs,mjs},
#   passenger.config.{js,cjs,mjs}
# Precedence, lowest first: defaults < config file < PASSENGER_<OPTION> environment
# variables < command-line flags (--option-name) < per-request SCGI parameters
# (PASSENGER_<OPTION>, where the option is per-app).
# Generated from the option table: run \`npm run gen:example\` after adding an option.
`;
  const sections: string[] = [];
  for (const scope of ['instance', 'app'] as const) {
    sections.push(scope === 'instance' ? '\n# ---- Server-wide options ----' : '\n# ---- Per-application options ----');
    for (const d of defs.filter((x) => x.scope === scope)) {
      const lines = [`\n# ${d.doc.charAt(0).toUpperCase()}${d.doc.slice(1)}.`];
      const meta = [`type ${d.type}${d.values ? ` (${d.values.join(' | ')})` : ''}${d.unit ? `, in ${d.unit}` : ''}`, `flag ${flagName(d.name)}`, `env ${envVarName(d.name)}`];
      if (d.owner && d.owner !== CORE_PLUGIN_NAME) meta.push(`from plugin ${d.owner}`);
      if (d.usedBy?.length) meta.push(`also used by ${d.usedBy.join(', ')}`);
      if (d.aliases?.length) meta.push(`formerly ${d.aliases.join(', ')} (deprecated names)`);
      if (d.deprecated) meta.push(`deprecated: ${d.deprecated}`);
      lines.push(`# ${meta.join('; ')}`);
      const example = d.default !== undefined && !(Array.isArray(d.default) && d.default.length === 0) && !(typeof d.default === 'object' && d.default !== null && Object.keys(d.default).length === 0) ? d.default : EXAMPLES[d.name];
      if (example === undefined) lines.push(`# ${d.name}:`);
      else if (d.name === 'nodejs') lines.push(`# ${d.name}: node`);
      else lines.push(`# ${d.name}: ${yamlValue(example)}`);
      sections.push(lines.join('\n'));
    }
  }
  return head + sections.join('\n') + '\n';
}
