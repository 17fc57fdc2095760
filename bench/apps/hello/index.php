<?php
// Hello world for the bench (PHP): our server with passenger-plugin-php and
// nginx with php-fpm both run this file. Routes as app.js: / (tiny body),
// /1mib, POST /upload (counts the body), /pid.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/1mib') {
  header('Content-Type: application/octet-stream');
  header('Content-Length: 1048576');
  echo str_repeat('x', 1048576);
} elseif ($path === '/upload') {
  // php://input, not $_POST: PHP keeps a body it does not parse as a stream (post_max_size still applies).
  $in = fopen('php://input', 'rb');
  $total = 0;
  while (!feof($in)) $total += strlen(fread($in, 65536));
  header('Content-Type: text/plain');
  echo $total, "\n";
} elseif ($path === '/pid') {
  header('Content-Type: text/plain');
  echo getmypid();
} else {
  header('Content-Type: text/plain');
  header('Content-Length: 12');
  echo "hello world\n";
}
