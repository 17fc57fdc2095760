// @ts-check
// The `fastcgi` protocol: how the core talks to php-fpm (or php-cgi -b), over
// kept-alive connections (fastcgi-connections.js): BEGIN_REQUEST with
// FCGI_KEEP_CONN, the CGI variables as PARAMS, the body streamed as STDIN
// records with backpressure, then STDOUT (a CGI head, then the body, streamed
// to the client with backpressure), STDERR (PHP's log lines, to the server's
// log) and END_REQUEST, after which the connection waits for the next
// request. Registered through the kernel's `registerProtocols` hook.
import { STATUS_CODES } from 'node:http';
import { PassengerError, cgiVariables } from 'passenger-ts';
import {
  END_REQUEST, MAX_CONTENT, STDERR, STDIN, STDOUT,
  RecordReader, beginRequestChars, headerChars, paramsRecordsChars, parseEndRequest, recordHeader,
} from './fastcgi-records.js';
import { CgiHeadReader } from './cgi-response-head.js';
import { scriptParams } from './script-params.js';
import { ConnectionPool } from './fastcgi-connections.js';

export const PROTOCOL_NAME = 'fastcgi';
const REQUEST_ID = 1;
const EMPTY_STDIN = recordHeader(STDIN, REQUEST_ID, 0);
const BEGIN_KEEP_CONN = beginRequestChars(REQUEST_ID, true);
const EMPTY_STDIN_CHARS = headerChars(STDIN, REQUEST_ID, 0);

/** @typedef {import('passenger-ts').ForwardTarget} ForwardTarget */
/** @typedef {import('passenger-ts').ForwardOutcome} ForwardOutcome */
/** @typedef {import('passenger-ts').FrontRequest} FrontRequest */
/** @typedef {import('passenger-ts').FrontResponse} FrontResponse */
/** @typedef {import('./fastcgi-connections.js').FastCgiConnection} FastCgiConnection */

/** The variables PHP gets: the core's CGI variables, with the script chosen for PHP (script-params.js). */
async function fastcgiParams(target, req) {
  const vars = cgiVariables(req, target.baseUri);
  const at = (name) => { for (let i = 0; i < vars.length; i += 2) if (vars[i] === name) return i + 1; return -1; };
  const script = await scriptParams(target.startupFile, vars[at('SCRIPT_NAME')], vars[at('PATH_INFO')]);
  vars[at('SCRIPT_NAME')] = script.scriptName;
  vars[at('PATH_INFO')] = script.pathInfo;
  vars.push(
    'SCRIPT_FILENAME', script.scriptFilename, 'DOCUMENT_ROOT', script.documentRoot,
    'GATEWAY_INTERFACE', 'CGI/1.1', 'SERVER_SOFTWARE', 'passenger-ts',
    // php-cgi refuses to run a script unless a web server says it redirected there (cgi.force_redirect).
    'REDIRECT_STATUS', '200',
  );
  return vars;
}

/** Options for net.connect from a socket address (`unix:/path` or `tcp://host:port`). */
function connectOptions(address) {
  if (address.startsWith('unix:')) return { path: address.slice(5) };
  const m = /^tcp:\/\/\[?([^\]]+)\]?:(\d+)$/.exec(address);
  if (!m) throw new PassengerError('PSG_ERR_SPAWN_PROTOCOL', `unsupported FastCGI socket address "${address}"`);
  return { host: m[1], port: Number(m[2]) };
}

/** @type {WeakMap<ForwardTarget, ConnectionPool>} */
const pools = new WeakMap();

/** @param {ForwardTarget} target */
function poolOf(target) {
  let pool = pools.get(target);
  if (!pool) {
    // The process reports its workers as its concurrency.
    pool = new ConnectionPool(connectOptions(target.socket.address), Math.max(1, target.socket.concurrency));
    pools.set(target, pool);
  }
  return pool;
}

class FastCgiExchange {
  /** @type {ForwardTarget} */ target;
  /** @type {FrontRequest} */ req;
  /** @type {FrontResponse} */ res;
  /** @type {(o: ForwardOutcome) => void} */ resolve;
  /** @type {FastCgiConnection | undefined} */ conn;
  /** The PARAMS records, as Latin-1 characters. */
  params = '';
  headReader = new CgiHeadReader();
  headDone = false;
  settled = false;
  /** END_REQUEST arrived: the request is over once the read that brought it is. */
  ended = false;
  /** Records came after END_REQUEST: the connection is not at a request's start any more. */
  trailing = false;
  /** A byte of the response arrived on the current connection. */
  received = false;
  retried = false;
  /** STDIN went out whole (its empty record included). */
  bodySent = false;
  /** Body bytes PHP may still send, when it announced a Content-Length. */
  bodyLeft = Infinity;
  dropBody = false;
  reader = new RecordReader((type, id, content) => this.onRecord(type, id, content));

  constructor(target, req, res, resolve) {
    this.target = target;
    this.req = req;
    this.res = res;
    this.resolve = resolve;
    this.dropBody = req.method === 'HEAD';
  }

  async start() {
    if (this.res.clientGone) { this.finish(clientGone()); return; }
    this.res.onClose(() => this.finish(clientGone()));
    try {
      this.params = paramsRecordsChars(REQUEST_ID, await fastcgiParams(this.target, this.req));
    } catch (e) {
      this.finish({ ok: false, processHealthy: true, error: new PassengerError('PSG_ERR_APP_RESPONSE', `cannot build the FastCGI request: ${e.message}`) });
      return;
    }
    if (this.settled) return;
    this.attach(false);
  }

  /** A kept connection (sent to at once), or a new one (sent to once connected). @param {boolean} fresh */
  attach(fresh) {
    const conn = this.conn = poolOf(this.target).acquire(this, fresh);
    if (conn.connected) this.onConnect();
  }

  // ConnectionUser
  onConnect() {
    const sock = /** @type {FastCgiConnection} */ (this.conn).sock;
    const head = BEGIN_KEEP_CONN + this.params;
    const body = this.req.body;
    if (!body) {
      // The whole request in one write.
      sock.write(head + EMPTY_STDIN_CHARS, 'latin1');
      this.bodySent = true;
      return;
    }
    sock.cork();
    sock.write(head, 'latin1');
    this.sendBody(sock, body);
    process.nextTick(() => sock.uncork());
  }

  /** @param {Buffer} data */
  onData(data) {
    this.received = true;
    try {
      this.reader.feed(data);
    } catch (e) {
      this.fail('PSG_ERR_APP_RESPONSE', `invalid FastCGI response from process ${this.target.pid}: ${e.message}`, false);
      return;
    }
    // Kept for the next request only when it stands at a request's start: STDIN all sent, nothing after END_REQUEST.
    if (this.ended) this.finish({ ok: true }, this.bodySent && !this.trailing && this.reader.atRecordStart);
  }

  /** @param {NodeJS.ErrnoException | undefined} e */
  onClosed(e) {
    if (this.settled) return;
    const conn = /** @type {FastCgiConnection} */ (this.conn);
    // A kept connection the worker had closed, and no answer yet: once more on a new one, unless a body was (being) sent.
    if (conn.reused && !this.received && !this.req.body && !this.retried) {
      this.retried = true;
      this.attach(true);
      return;
    }
    if (!conn.connected) {
      this.finish({ ok: false, processHealthy: false, retryable: true, error: new PassengerError('PSG_ERR_APP_CONNECT', `cannot connect to process ${this.target.pid} at ${this.target.socket.address} (${e?.code ?? e?.message ?? 'closed'})`) });
    } else if (e) this.fail('PSG_ERR_APP_RESPONSE', `process ${this.target.pid} broke the FastCGI connection (${e.code ?? e.message})`, false);
    else this.fail('PSG_ERR_APP_RESPONSE', `process ${this.target.pid} closed the FastCGI connection before END_REQUEST`, false);
  }

  /**
   * STDIN: the body in records of at most MAX_CONTENT bytes, paused while the socket is full; then the empty record.
   * @param {import('node:net').Socket} sock @param {import('node:stream').Readable} body
   */
  sendBody(sock, body) {
    const onDrain = () => body.resume();
    // A body the core buffered in a file takes its chunks back once written, and reads into them again.
    const recycle = typeof body.recycle === 'function' ? body.recycle.bind(body) : undefined;
    body.on('data', (chunk) => {
      if (this.settled) return;
      let ok = true;
      for (let at = 0; at < chunk.length; at += MAX_CONTENT) {
        const end = Math.min(at + MAX_CONTENT, chunk.length);
        const piece = chunk.subarray(at, end);
        sock.write(recordHeader(STDIN, REQUEST_ID, piece.length));
        // The last piece's write completes after the others: the whole chunk is free then.
        ok = sock.write(piece, end === chunk.length && recycle ? () => recycle(chunk) : undefined);
      }
      if (!ok) { body.pause(); sock.once('drain', onDrain); }
    });
    body.once('end', () => {
      if (this.settled) return;
      sock.write(EMPTY_STDIN);
      this.bodySent = true;
    });
    // The client broke off its body: PHP must not wait for the rest.
    body.once('close', () => { if (!body.readableEnded) this.finish(clientGone()); });
  }

  onRecord(type, id, content) {
    if (this.settled) return;
    if (this.ended) { this.trailing = true; return; }
    if (id !== REQUEST_ID) return;
    if (type === STDOUT) this.stdout(content);
    else if (type === STDERR) this.stderr(content);
    else if (type === END_REQUEST) this.endRequest(parseEndRequest(content));
  }

  stdout(content) {
    if (content.length === 0) return;
    if (!this.headDone) {
      let got;
      try {
        got = this.headReader.feed(content);
      } catch (e) {
        this.fail('PSG_ERR_APP_RESPONSE', `invalid response from process ${this.target.pid}: ${e.message}`, true);
        return;
      }
      if (!got) return;
      this.headDone = true;
      const { head, rest } = got;
      if (head.contentLength !== undefined) this.bodyLeft = head.contentLength;
      if (head.status === 204 || head.status === 304) this.dropBody = true;
      this.res.writeHead(head.status, head.reason || STATUS_CODES[head.status] || '', head.headers);
      content = rest;
      if (content.length === 0) return;
    }
    if (this.dropBody) return;
    // Never more than the announced length: the client would read the rest as the next response.
    if (content.length > this.bodyLeft) content = content.subarray(0, this.bodyLeft);
    this.bodyLeft -= content.length;
    if (content.length === 0) return;
    if (!this.res.write(content)) {
      // A slow client: PHP waits (its socket buffer fills) until the client took what it was sent.
      const sock = this.conn?.sock;
      sock?.pause();
      this.res.onDrain(() => { if (!this.settled) sock?.resume(); });
    }
  }

  stderr(content) {
    const text = content.toString('utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') this.target.log.warn(`php: ${line.trimEnd()}`);
  }

  endRequest(end) {
    if (!this.headDone) {
      this.fail('PSG_ERR_APP_RESPONSE', `process ${this.target.pid} ended the request without a response head (${end.protocolStatusText}, exit status ${end.appStatus})`, true);
      return;
    }
    if (this.bodyLeft !== Infinity && this.bodyLeft > 0 && !this.dropBody) {
      this.fail('PSG_ERR_APP_RESPONSE', `response truncated: ${this.bodyLeft} of the announced Content-Length bytes missing`, true);
      return;
    }
    this.ended = true;
    this.res.end();
  }

  /** The request failed: an error response when nothing was sent yet (the core writes it), else a cut connection. */
  fail(code, message, processHealthy) {
    if (this.settled) return;
    if (this.res.headersSent) this.res.abort();
    this.finish({ ok: false, processHealthy, error: new PassengerError(code, message) });
  }

  /** @param {ForwardOutcome} outcome @param {boolean} [reusable] the connection may carry the next request */
  finish(outcome, reusable = false) {
    if (this.settled) return;
    this.settled = true;
    const conn = this.conn;
    if (conn) {
      if (reusable) conn.park();
      else conn.close();
    }
    this.resolve(outcome);
  }
}

function clientGone() {
  return { ok: false, processHealthy: true, clientGone: true, error: new PassengerError('PSG_ERR_CLIENT_GONE', 'the client went away before the response was complete') };
}

/** @type {import('passenger-ts').Protocol} */
export const fastcgiProtocol = {
  name: PROTOCOL_NAME,
  forward(target, req, res) {
    return new Promise((resolve) => { void new FastCgiExchange(target, req, res, resolve).start(); });
  },
  release(target) {
    pools.get(target)?.release();
  },
};
