// The error pages' only stylesheet, inlined: the pages load nothing else, so
// they render the same offline, behind a proxy, or saved to a file.
export const PAGE_STYLE = `
:root{--fail:#c4262e;--fail-bg:#fdf0f0;--ok:#1f7a3f;--ink:#1c1e21;--muted:#5f6368;--line:#e1e3e6;--paper:#fff;--bg:#f6f7f9;--code-bg:#f2f3f5;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
@media (prefers-color-scheme:dark){:root{--fail:#ff6b6b;--fail-bg:#3a1f22;--ok:#5cc98a;--ink:#e8eaed;--muted:#a0a4aa;--line:#3a3d42;--paper:#1f2125;--bg:#16181b;--code-bg:#2a2d32}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:var(--bg)}
.wrap{max-width:64rem;margin:0 auto;padding:0 1.25rem}
header.top{background:var(--paper);border-top:6px solid var(--fail);border-bottom:1px solid var(--line);padding:1.6rem 0 1.3rem}
.kicker{margin:0;color:var(--fail);font-weight:600;letter-spacing:.02em}
h1{font-size:1.7rem;line-height:1.25;margin:.35rem 0 .6rem;overflow-wrap:anywhere}
.meta{margin:0;color:var(--muted);font-size:.9rem}
.meta code{font-size:.95em}
main{padding:1rem 1.25rem 2rem}
section{background:var(--paper);border:1px solid var(--line);border-radius:10px;padding:1.1rem 1.3rem;margin:1.1rem 0}
h2{font-size:1.15rem;margin:0 0 .7rem}
h3{font-size:1.02rem;margin:0 0 .35rem}
p{margin:.4rem 0}
code,pre{font-family:var(--mono);font-size:.86rem}
p code,dd code,li code,summary code{background:var(--code-bg);padding:.05rem .3rem;border-radius:4px;overflow-wrap:anywhere}
pre{background:var(--code-bg);border-radius:8px;padding:.8rem 1rem;margin:.5rem 0 0;overflow:auto;max-height:32rem;white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.45}
ol.journey{list-style:none;display:flex;flex-wrap:wrap;gap:.5rem;padding:0;margin:0}
ol.journey li{flex:1 1 10rem;border:1px solid var(--line);border-radius:8px;padding:.55rem .75rem;position:relative}
ol.journey .state{display:block;font-size:.82rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
ol.journey .done .state{color:var(--ok)}
ol.journey .failed{border-color:var(--fail);background:var(--fail-bg)}
ol.journey .failed .state{color:var(--fail)}
ol.journey .not-reached{color:var(--muted);border-style:dashed}
ol.journey small{color:var(--muted);white-space:nowrap}
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1.2rem;margin:0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
section.fix{border:2px solid var(--fail)}
.hint{border-top:1px solid var(--line);padding:.9rem 0 .3rem}
.hint:first-of-type{border-top:0;padding-top:.2rem}
.hint .by{color:var(--muted);font-size:.8rem;margin-top:.4rem}
pre.cmd{background:#1c1e21;color:#f1f3f4;user-select:all;-webkit-user-select:all;cursor:text;max-height:none}
pre.cmd::before{content:"$ ";color:#9aa0a6;user-select:none;-webkit-user-select:none}
.copy-note{color:var(--muted);font-size:.8rem;margin:.25rem 0 0}
.none{color:var(--muted);font-style:italic}
details{border-top:1px solid var(--line);padding:.55rem 0}
details:first-of-type{border-top:0}
summary{cursor:pointer;font-weight:600}
summary small{color:var(--muted);font-weight:400}
table{border-collapse:collapse;width:100%;margin-top:.5rem;font-size:.86rem}
td,th{text-align:left;vertical-align:top;padding:.3rem .6rem;border-bottom:1px solid var(--line)}
td:first-child,th:first-child{white-space:nowrap;font-family:var(--mono)}
td{font-family:var(--mono);overflow-wrap:anywhere}
td.masked{color:var(--muted)}
footer{color:var(--muted);font-size:.85rem;padding:0 1.25rem 2.5rem}
.generic{max-width:36rem;margin:12vh auto;padding:0 1.25rem;text-align:center}
.generic h1{font-size:1.5rem}
`.replace(/\n/g, '');
