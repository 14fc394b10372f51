/** A self-contained API reference rendered in the browser from /openapi.json (no CDN, no network). */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sprintlane API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#1d2330;color:#fff;padding:16px 32px}main{max-width:1000px;margin:0 auto;padding:16px 32px}
h2{margin-top:32px;border-bottom:1px solid #dde;padding-bottom:4px}
details{background:#fff;border:1px solid #dde;border-radius:6px;margin:8px 0;padding:8px 12px}
summary{cursor:pointer;font-family:ui-monospace,monospace}.m{display:inline-block;width:64px;font-weight:700}
.get{color:#1a7f37}.post{color:#0969da}.put,.patch{color:#9a6700}.delete{color:#cf222e}
pre{background:#f3f4f6;padding:8px;overflow:auto;font-size:13px}
</style></head><body><header><h1>Sprintlane API</h1><div id="v"></div></header><main id="root">Loading…</main>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  document.getElementById('v').textContent='Version '+doc.info.version+' · OpenAPI '+doc.openapi;
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths))for(const [m,op] of Object.entries(ops)){
    const t=(op.tags&&op.tags[0])||'Other';(byTag[t]=byTag[t]||[]).push([m,path,op]);}
  const root=document.getElementById('root');root.textContent='';
  for(const [tag,list] of Object.entries(byTag)){
    const h=document.createElement('h2');h.textContent=tag;root.appendChild(h);
    for(const [m,path,op] of list){
      const d=document.createElement('details');const s=document.createElement('summary');
      const sp=document.createElement('span');sp.className='m '+m;sp.textContent=m.toUpperCase();
      s.appendChild(sp);s.appendChild(document.createTextNode(path+' — '+(op.summary||'')));d.appendChild(s);
      const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
      d.appendChild(pre);root.appendChild(d);}}
});
</script></body></html>`;
