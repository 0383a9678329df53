//! The page's one inline stylesheet and its one optional script (both constants: nothing
//! from the registry or S3 is ever placed in them).
//!
//! Colours back the state words, never replace them. Under 44 rem (a phone) each table row
//! becomes a card whose cells are labelled from `data-label`; printing keeps the colours, swaps the
//! live age line for the static one and shrinks the tables to the paper.

/// The stylesheet.
pub const CSS: &str = r#"
:root{--ink:#1b1f24;--mute:#57606a;--line:#d0d7de;--bg:#fff;--ok:#1a7f37;--okbg:#dafbe1;
--warn:#9a6700;--warnbg:#fff8c5;--bad:#cf222e;--badbg:#ffebe9;--info:#0969da;--infobg:#ddf4ff}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:90rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.2rem 0 .6rem}
h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
p{margin:.35rem 0}
.headline{border-radius:8px;padding:.8rem 1rem;border:2px solid}
.headline.ok{background:var(--okbg);border-color:var(--ok)}
.headline.critical{background:var(--badbg);border-color:var(--bad)}
.headline.warning{background:var(--warnbg);border-color:var(--warn)}
.banner{border-left:6px solid var(--info);background:var(--infobg);padding:.5rem .8rem;margin:.6rem 0}
.banner.stale{border-color:var(--bad);background:var(--badbg);font-weight:600}
.meta{color:var(--mute)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid var(--line)}
thead th{background:#f6f8fa;position:sticky;top:0}
tbody th[scope=rowgroup]{background:#f6f8fa;font-size:1rem}
td.num{font-variant-numeric:tabular-nums}
.nowrap{white-space:nowrap}
tbody th[scope=row]{min-width:8rem}
.reason,.key{word-break:break-word;max-width:40rem}
td.reason{min-width:12rem}
td.hist{min-width:7.5rem;max-width:17rem}
caption{text-align:left;padding:.2rem 0}
.key{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
.st{display:inline-block;padding:0 .4rem;border-radius:4px;font-weight:600;white-space:nowrap}
.st-fresh{background:var(--okbg);color:var(--ok)}
.st-grace_period{background:var(--infobg);color:var(--info)}
.st-stale,.st-suspect,.st-missing,.st-probe_failed{background:var(--badbg);color:var(--bad)}
.st-waiting{background:#eaeef2;color:var(--mute)}
.what{font-weight:600;font-size:1.05rem;word-break:break-word}
.age{color:var(--mute)}
.acked{display:inline-block;margin-top:.2rem;padding:0 .4rem;border-radius:4px;background:var(--infobg);color:var(--info);font-weight:600}
.ack{margin-top:.25rem;color:var(--info);font-weight:600}
tr.alerting>*{border-bottom:0}
tr.next-row>td{padding-top:0}
.next{padding:.3rem .5rem;border-left:4px solid var(--line);background:#f6f8fa}
.next code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.88em;overflow-wrap:anywhere}
.next .cmd code{user-select:all}
.st-incomplete{background:var(--badbg);color:var(--bad)}
.st-indeterminate{background:var(--warnbg);color:var(--warn)}
.st-complete{background:var(--okbg);color:var(--ok)}
.sev-critical{color:var(--bad);font-weight:600}
.sev-warning{color:var(--warn);font-weight:600}
ol.strip{list-style:none;margin:0;padding:0;display:inline-flex;flex-wrap:wrap;gap:2px;vertical-align:middle}
ol.strip li,.sw{display:inline-block;width:1.25rem;height:1.25rem;line-height:1.25rem;text-align:center;font-size:.75rem;font-weight:700;border-radius:3px}
.m-ok{background:var(--ok);color:#fff}.m-late{background:#d4a72c;color:#000}
.m-miss{background:var(--bad);color:#fff}.m-na{background:#eaeef2;color:var(--mute)}
.m-unk{background:#8c959f;color:#fff}
.rate{display:block;font-size:.85rem}
.legend{font-size:.85rem;color:var(--mute);margin:.4rem 0}
.legend .item{margin-right:1rem;white-space:nowrap}
.policy{margin-top:.25rem;font-size:.9em;color:var(--mute)}
.more{font-style:italic;color:var(--mute)}
th .meta{font-weight:400}
footer{margin-top:2rem;font-size:.85rem;color:var(--mute)}
@media (max-width:44rem){
 main{padding:.6rem}
 h1{font-size:1.2rem}
 table.cards thead{position:absolute;left:-9999px}
 table.cards,table.cards tbody,table.cards tr,table.cards td,table.cards th{display:block;width:100%}
 table.cards tr{border:1px solid var(--line);border-radius:6px;margin:.5rem 0;padding:.3rem .4rem}
 table.cards td,table.cards th{border:0;padding:.15rem .2rem}
 td.reason{min-width:0}
 table.cards caption{display:block;text-align:left}
 table.cards td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:var(--mute)}
 table.cards tbody th[scope=rowgroup]{border-radius:6px;margin-top:1rem}
 table.cards tr.alerting{margin-bottom:0;border-bottom:0;border-radius:6px 6px 0 0}
 table.cards tr.next-row{margin-top:0;border-top:0;border-radius:0 0 6px 6px}
 .next .cmd code{display:block}
}
@media print{
 thead th{position:static}
 .live{display:none}
 #static-age[hidden]{display:block}
 main{padding:0;max-width:none}
 .scroll{overflow:visible}
 table{font-size:.72rem}
 th,td{padding:.2rem .3rem}
 td.reason,td.hist,tbody th[scope=row]{min-width:0}
 tr{break-inside:avoid}
 .headline,.banner,.st,ol.strip li,.sw{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:inherit}
}
"#;

/// Optional: with scripts on, shows (it is `hidden` without) and fills the `#live-age` line from the reader's clock (the
/// pass time and interval are read from `data-` attributes written by the renderer). The page
/// says everything without it.
pub const AGE_SCRIPT: &str = r#"
(function(){var e=document.getElementById("live-age");if(!e)return;
e.hidden=false;var run=Number(e.getAttribute("data-run-at-ms")),step=Number(e.getAttribute("data-interval-ms"));
var age=Date.now()-run;if(!(age>=0))return;var m=Math.floor(age/60000),d=Math.floor(m/1440),h=Math.floor(m/60)%24;
var t=d>0?d+" d "+h+" h":(h>0?h+" h "+(m%60)+" min":m+" min");
var old=age>2*step;e.textContent="Now "+new Date().toISOString().slice(0,16).replace("T"," ")+" UTC: this page is "+t+" old"+
(old?" \u2014 older than two passes: the monitor may have stopped; check heartbeat.json and the function's logs.":", within two passes.");
if(old)e.className="banner stale live";var s=document.getElementById("static-age");if(s)s.hidden=true;})();
"#;
