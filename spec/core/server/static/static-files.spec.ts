// What the lean engine gets from the static files for each kind of request,
// with no node:http objects: a reply (a file in memory, a 304, a refusal), a
// reply to come (a file read into memory the first time), 'node' only for
// what send streams, and nothing for the app's requests. A hit costs one stat.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticFiles } from '../../../../core/server/static/static-files.ts';
import { StaticFileCache } from '../../../../core/server/static/file-cache.ts';
import type { StaticReply } from '../../../../core/server/static/static-reply.ts';
import type { AppSpec } from '../../../../core/config/app-spec.ts';
import { createLogger } from '../../../../core/log/logger.ts';

describe('static files on the lean engine (replyLean)', () => {
  let root: string;
  let app: AppSpec;
  let files: StaticFiles;
  const lines: string[] = [];
  before(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'psg-static-lean-')));
    mkdirSync(join(root, 'public'));
    writeFileSync(join(root, 'public/site.css'), 'body{}');
    writeFileSync(join(root, 'public/big.bin'), Buffer.alloc(3 << 20));
    mkdirSync(join(root, 'public/docs'));
    writeFileSync(join(root, 'public/docs/index.html'), '<h1>docs</h1>');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    symlinkSync(join(root, 'secret.txt'), join(root, 'public/leak.txt'));
    app = { appRoot: root, name: 'app', appType: 'node', startupFile: join(root, 'app.js'), detectReason: '', options: { base_uri: '/' } as unknown as AppSpec['options'], sources: {} };
    files = new StaticFiles(createLogger('warn', (l) => lines.push(l)), false, () => [], new StaticFileCache(16 << 20));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const ask = (url: string, headers: string[] = [], method = 'GET') => files.replyLean(method, url, ['Host', 'x', ...headers], app);
  const headerOf = (r: StaticReply, name: string) => r.headers[r.headers.indexOf(name) + 1];

  it('reads a file into memory the first time, then answers it at once', async () => {
    const first = ask('/site.css');
    expect(first).to.be.instanceOf(Promise);
    const loaded = await (first as Promise<StaticReply>);
    expect([loaded.status, loaded.body?.toString()]).to.deep.equal([200, 'body{}']);
    const hit = ask('/site.css') as StaticReply;
    expect(hit).to.not.be.instanceOf(Promise);
    expect([hit.status, hit.body?.toString(), headerOf(hit, 'Content-Length')]).to.deep.equal([200, 'body{}', '6']);
    const head = ask('/site.css', [], 'HEAD') as StaticReply;
    expect([head.status, head.body, headerOf(head, 'Content-Length')]).to.deep.equal([200, undefined, '6']);
    const notModified = ask('/site.css', ['If-None-Match', headerOf(hit, 'ETag')!]) as StaticReply;
    expect([notModified.status, notModified.body]).to.deep.equal([304, undefined]);
  });

  it('answers refusals, redirects and a symlink out of the tree (404) itself', () => {
    const refused = ask('/%2e%2e/secret') as StaticReply;
    expect([refused.status, refused.body?.toString()]).to.deep.equal([400, '400 Bad Request\n']);
    expect(lines.join('\n')).to.match(/refused/);
    const redirect = ask('/docs?x=1') as StaticReply;
    expect([redirect.status, headerOf(redirect, 'Location')]).to.deep.equal([301, '/docs/?x=1']);
    const leak = ask('/leak.txt') as StaticReply;
    expect([leak.status, leak.body?.toString()]).to.deep.equal([404, '404 Not Found\n']);
  });

  it('leaves to node:http only what send streams: ranges, preconditions, files too large to keep', async () => {
    await ask('/site.css');
    expect(ask('/site.css', ['Range', 'bytes=0-1'])).to.equal('node');
    expect(ask('/site.css', ['If-Match', '*'])).to.equal('node');
    expect(ask('/big.bin')).to.equal('node');
  });

  it("leaves the app's requests to the app", () => {
    expect(ask('/nope.css')).to.equal(undefined);
    expect(ask('/site.css', [], 'POST')).to.equal(undefined);
    expect(ask('/')).to.equal(undefined);
  });

  it('looks a path that named no file up again only after a second, whatever its query', async function () {
    this.timeout(5000);
    expect(ask('/late.css')).to.equal(undefined);
    expect(ask('/late/')).to.equal(undefined);
    writeFileSync(join(root, 'public/late.css'), 'late{}');
    mkdirSync(join(root, 'public/late'));
    writeFileSync(join(root, 'public/late/index.html'), 'late');
    // Remembered as missing: the app still answers, with no stat.
    expect(ask('/late.css?v=2')).to.equal(undefined);
    expect(ask('/late/')).to.equal(undefined);
    // Its own key: the directory's slash form was not asked before.
    expect((ask('/late') as StaticReply).status).to.equal(301);
    await new Promise((r) => setTimeout(r, 1100));
    const served = await ask('/late.css') as StaticReply;
    expect([served.status, served.body?.toString()]).to.deep.equal([200, 'late{}']);
    expect((await ask('/late/') as StaticReply).body?.toString()).to.equal('late');
  });
});
