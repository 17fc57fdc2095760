// @ts-check
// What the error page says about a PHP app that failed to start, from what the
// loader reported (php-loader.js): a parse error names its file and line, a
// missing extension names the Debian package that provides it, a missing
// php-fpm names the packages to install.
import { shellQuote } from 'passenger-ts';

const NAME = 'php';

// Extensions shipped in a package of another name (Debian bookworm); the rest are php<version>-<ext>.
const PACKAGE_OF = {
  mysqli: 'mysql', pdo_mysql: 'mysql', mysqlnd: 'mysql',
  pgsql: 'pgsql', pdo_pgsql: 'pgsql',
  sqlite3: 'sqlite3', pdo_sqlite: 'sqlite3',
  dom: 'xml', simplexml: 'xml', xml: 'xml', xmlreader: 'xml', xmlwriter: 'xml', xsl: 'xml',
};
// PECL extensions packaged without a PHP version in their name.
const UNVERSIONED = new Set(['redis', 'imagick', 'apcu', 'memcached', 'mongodb', 'xdebug', 'igbinary', 'msgpack', 'yaml']);
// Functions of the common extensions, for "Call to undefined function" in the output.
const EXTENSION_OF_PREFIX = [
  ['mb_', 'mbstring'], ['mysqli_', 'mysqli'], ['pg_', 'pgsql'], ['curl_', 'curl'], ['imagecreate', 'gd'], ['image', 'gd'],
  ['simplexml_', 'simplexml'], ['xml_', 'xml'], ['bc', 'bcmath'], ['intl', 'intl'], ['numfmt_', 'intl'], ['zip_', 'zip'], ['gmp_', 'gmp'],
];

/** The Debian package that provides an extension, for this PHP version ("8.2"). */
export function debianPackage(ext, version) {
  const e = ext.toLowerCase();
  if (UNVERSIONED.has(e)) return `php-${e}`;
  return `php${version || '8.2'}-${PACKAGE_OF[e] ?? e}`;
}

/** The extension a function belongs to, from its name, when it is one of the common ones. */
export function extensionOfFunction(fn) {
  const f = fn.toLowerCase();
  return EXTENSION_OF_PREFIX.find(([prefix]) => f.startsWith(prefix))?.[1];
}

/** @param {import('passenger-ts').ErrorReport} report */
export function phpHints(report) {
  const p = report.properties;
  const version = p.php_version ?? '8.2';
  if (p.php_file && p.php_line) {
    report.hints.push({
      title: `Fix the syntax error in ${p.php_file}, line ${p.php_line}`,
      body: `PHP could not parse the front controller, so no request can run. The lines around it are in the details below. Check it with PHP's linter after fixing it, then touch tmp/restart.txt.`,
      command: `php -l ${shellQuote(p.php_file)}`,
      plugin: NAME,
    });
  }
  const missing = new Set((p.missing_extensions ?? '').split(',').filter(Boolean));
  const text = [report.detail, ...report.output].join('\n');
  for (const m of text.matchAll(/Call to undefined function ([A-Za-z_][A-Za-z0-9_]*)\(/g)) {
    const ext = extensionOfFunction(m[1]);
    if (ext) missing.add(ext);
  }
  for (const m of text.matchAll(/Unable to load dynamic library '([A-Za-z0-9_]+)(?:\.so)?'/g)) missing.add(m[1]);
  if (missing.size > 0) {
    const packages = [...new Set([...missing].map((e) => debianPackage(e, version)))];
    report.hints.push({
      title: `Install the PHP extension${missing.size > 1 ? 's' : ''} ${[...missing].join(', ')}`,
      body: `On Debian and Ubuntu, ${packages.length > 1 ? 'the packages' : 'the package'} ${packages.join(', ')} ${packages.length > 1 ? 'provide' : 'provides'} ${missing.size > 1 ? 'them' : 'it'} for PHP ${version}; php-fpm loads it at its next start (touch tmp/restart.txt).`,
      command: `apt-get install ${packages.join(' ')}`,
      plugin: NAME,
    });
  }
  if (report.errorClass === 'PhpNotFound') {
    report.hints.push({
      title: 'Install php-fpm',
      body: 'The plugin runs PHP apps with php-fpm, or with php-cgi when php-fpm is missing. The php_sapi option chooses one.',
      command: 'apt-get install php8.2-fpm php8.2-cli',
      plugin: NAME,
    });
  }
  return report;
}
