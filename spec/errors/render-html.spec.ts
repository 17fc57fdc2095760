import { expect } from 'chai';
import { renderGenericHtml, renderReportHtml } from '../../core/error-reports/render-html.ts';
import { sampleReport } from './sample-report.ts';

const EVIL = `<script>document.title='pwned'</script><img src=x onerror=alert(1)>"'&`;

function typicalReport() {
  const environment: Record<string, string> = {};
  for (let i = 0; i < 40; i++) environment[`SOME_VARIABLE_${i}`] = `/opt/some/where/${i}/value-of-moderate-length`;
  const detail = ['TypeError: configuration is broken', ...Array.from({ length: 30 }, (_, i) => `    at frame${i} (/srv/app/lib/module${i}.js:${i + 1}:7)`)].join('\n');
  return sampleReport({
    detail,
    output: [...Array.from({ length: 60 }, (_, i) => `[app] log line number ${i} with some typical content`), ...detail.split('\n')],
    environment,
    hints: [
      { title: 'Install the dependencies', body: 'package.json lists `express`, but it is not installed.', command: 'cd /srv/app && npm ci', plugin: 'passenger:node' },
      { title: 'Look at app.js, line 3', body: 'First line of the app.\n\nSecond paragraph.', plugin: 'passenger:node' },
    ],
    sections: [{ title: 'Deploy checklist', body: 'config present: no', plugin: 'deploy-checklist' }],
  });
}

describe('renderReportHtml', () => {
  it('escapes everything that came from the app, wherever it appears', () => {
    const page = renderReportHtml(sampleReport({
      summary: EVIL, errorClass: EVIL, detail: EVIL, output: [EVIL], appRoot: `/srv/${EVIL}`, appName: EVIL, cwd: EVIL,
      command: [EVIL], environment: { EVIL_VAR: EVIL }, properties: { interpreter: EVIL }, ulimits: { files: EVIL },
      user: { name: EVIL, uid: 1, gid: 1 },
      hints: [{ title: EVIL, body: `\`${EVIL}\` and ${EVIL}`, command: EVIL, plugin: EVIL }],
      sections: [{ title: EVIL, body: EVIL, plugin: EVIL }],
    }));
    expect(page).not.to.match(/<script|<img|onerror=alert\(1\)>/i);
    expect(page).to.include('&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;');
    expect(page).to.include('<code>&lt;script&gt;');
  });

  it('is self-contained: no script, no external resource, and a CSP that forbids both', () => {
    const page = renderReportHtml(typicalReport());
    expect(page).not.to.match(/<script|<link|<iframe|<img|\ssrc=|\shref=|url\(|@import|https?:\/\//i);
    expect(page).to.match(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;/);
    expect(page).to.match(/^<!DOCTYPE html>\n<html lang="en">/);
  });

  it('weighs less than 30 KB for a typical report', () => {
    const bytes = Buffer.byteLength(renderReportHtml(typicalReport()));
    expect(bytes).to.be.below(30 * 1024);
  });

  it('shows the parts in the order a person needs them', () => {
    const page = renderReportHtml(typicalReport());
    const order = ['Error ID <code>abc123def0</code>', 'Where it failed', 'What happened', 'How to fix it', 'Error detail', 'Application output', 'From plugins', 'Diagnostics']
      .map((s) => page.indexOf(s));
    expect(order.every((i) => i >= 0), String(order)).to.equal(true);
    expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
  });

  it('shows the journey with the failed step and durations', () => {
    const page = renderReportHtml(typicalReport());
    expect(page).to.match(/<li class="failed"><span class="state">✗ failed<\/span>\nLoad the application <small>230 ms<\/small>/);
    expect(page).to.match(/<li class="not-reached"><span class="state">not reached<\/span>\nReady for requests/);
  });

  it('shows hints with their commands ready to copy and backticked words as code', () => {
    const page = renderReportHtml(typicalReport());
    expect(page).to.include('<pre class="cmd"><code>cd /srv/app &amp;&amp; npm ci</code></pre>');
    expect(page).to.include('package.json lists <code>express</code>, but it is not installed.');
    expect(page).to.include('<p>First line of the app.</p><p>Second paragraph.</p>');
    expect(page).to.include('Suggested by passenger:node');
  });

  it('folds the diagnostics into details elements', () => {
    const page = renderReportHtml(typicalReport());
    for (const title of ['Command', 'Working directory, user and group', 'Environment', 'Resource limits', 'System']) {
      expect(page).to.match(new RegExp(`<details><summary>${title}`));
    }
    expect(page).to.include('<td>SOME_VARIABLE_7</td><td>/opt/some/where/7/value-of-moderate-length</td>');
    expect(page).to.include('<details open><summary>Deploy checklist <small>from deploy-checklist</small></summary><pre>config present: no</pre>');
  });

  it('shows the loader error detail once, not again in the output', () => {
    const page = renderReportHtml(typicalReport());
    expect(page.split('at frame29 (/srv/app/lib/module29.js:30:7)').length - 1).to.equal(1);
    expect(page).to.include('[app] log line number 59');
  });

  it('caps huge output and says how much was left out', () => {
    const page = renderReportHtml(sampleReport({ detail: '', output: Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(3990)}`) }));
    expect(page).to.include('350 earlier lines');
    expect(page).to.include('line 499 ');
    expect(page).not.to.include('line 349 ');
    expect(Buffer.byteLength(page)).to.be.below(200 * 1024);
  });

  it('says so when no plugin had a hint', () => {
    expect(renderReportHtml(sampleReport())).to.include('No plugin recognised this failure');
  });
});

describe('renderGenericHtml', () => {
  it('shows the error ID and nothing about the app', () => {
    const page = renderGenericHtml(500, 'The application could not be started', 'abc123def0');
    expect(page).to.include('<code>abc123def0</code>');
    expect(page).to.include('The application could not be started');
    expect(page).not.to.match(/<script|https?:\/\//);
    expect(Buffer.byteLength(page)).to.be.below(8 * 1024);
  });
});
