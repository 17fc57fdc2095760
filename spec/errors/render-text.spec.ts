import { expect } from 'chai';
import { renderReportText } from '../../core/error-reports/render-text.ts';
import { sampleReport } from './sample-report.ts';

describe('renderReportText', () => {
  const text = renderReportText(sampleReport({
    hints: [{ title: 'Install the dependencies', body: 'They are missing.', command: 'cd /srv/app && npm ci', plugin: 'passenger:node' }],
    sections: [{ title: 'Deploy checklist', body: 'config present: no', plugin: 'deploy-checklist' }],
    environment: { PATH: '/usr/bin', API_TOKEN: '•••••• (masked, 12 characters)' },
  }));

  it('starts with the error ID and the summary', () => {
    expect(text.split('\n')[0]).to.equal('Error abc123def0: app could not start: something failed while loading');
  });

  it('has every part of the report', () => {
    for (const part of ['-- What happened --', '-- How to fix it --', '-- Error detail --', '-- Application output --',
      '-- Deploy checklist [deploy-checklist] --', '-- Command --', '-- Environment (secrets masked) --', '-- Resource limits --', '-- System --']) {
      expect(text).to.include(part);
    }
  });

  it('shows hints with their commands, and the facts', () => {
    expect(text).to.include('1. Install the dependencies [passenger:node]');
    expect(text).to.include('$ cd /srv/app && npm ci');
    expect(text).to.match(/error\s+RuntimeError: something failed while loading/);
    expect(text).to.match(/ran as\s+deploy \(uid 1001, gid 1001\) in \/srv\/app/);
    expect(text).to.match(/node_version\s+v20\.20\.2/);
    expect(text).to.include('Load the application: failed (230 ms)');
    expect(text).to.include('API_TOKEN=•••••• (masked, 12 characters)');
  });

  it('shows the error detail once and the rest of the output', () => {
    expect(text.split('at /srv/app/app.js:3:9').length - 1).to.equal(1);
    expect(text).to.include('    booting');
  });
});
