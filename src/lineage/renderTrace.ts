import type { Trace } from './trace.js';

export const TRACE_FORMATS = ['tree', 'table', 'json', 'mermaid', 'dot'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** An indented tree: each node once, under the node it was first reached from. */
export function renderTree(t: Trace): string {
  const children = new Map<string, string[]>();
  for (const n of t.nodes) if (n.via) children.set(n.via, [...(children.get(n.via) ?? []), n.id]);
  const byId = new Map(t.nodes.map((n) => [n.id, n]));
  const lines: string[] = [];
  const arrow = (d: number) => (d < 0 ? '↑' : d > 0 ? '↓' : '');
  const visit = (id: string, prefix: string, last: boolean, top: boolean) => {
    const n = byId.get(id);
    if (!n) return;
    lines.push(
      `${top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${n.id}  ${n.label}${n.distance ? `  (${arrow(n.distance)}${Math.abs(n.distance)})` : ''}`,
    );
    const kids = (children.get(id) ?? []).filter((k) => byId.get(k)?.distance !== 0);
    kids.forEach((k, i) =>
      visit(k, top ? '' : `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1, false),
    );
  };
  visit(t.root, '', true, true);
  return lines.join('\n');
}

const mermaidId = (i: number) => `n${i}`;
const escapeLabel = (s: string) => s.replace(/"/g, '#quot;').replace(/[<>]/g, '');

/** Mermaid flowchart, oldest at the top: paste into Markdown. */
export function renderMermaid(t: Trace): string {
  const index = new Map(t.nodes.map((n, i) => [n.id, i]));
  const lines = ['flowchart TD'];
  for (const [i, n] of t.nodes.entries()) {
    const text = escapeLabel(`${n.id}: ${n.label}`);
    lines.push(
      n.kind === 'prd' ? `  ${mermaidId(i)}[["${text}"]]` : `  ${mermaidId(i)}["${text}"]`,
    );
  }
  for (const e of t.edges)
    lines.push(
      `  ${mermaidId(index.get(e.from) as number)} -->${e.kind === 'input' ? '|input|' : ''} ${mermaidId(index.get(e.to) as number)}`,
    );
  lines.push(`  style ${mermaidId(index.get(t.root) as number)} stroke-width:3px`);
  return lines.join('\n');
}

const dotString = (s: string) =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Graphviz DOT: `cos-db trace ID --format dot | dot -Tsvg > lineage.svg`. */
export function renderDot(t: Trace): string {
  const lines = ['digraph lineage {', '  rankdir=TB;', '  node [shape=box, fontname="Helvetica"];'];
  for (const n of t.nodes) {
    const attrs = [`label=${dotString(`${n.id}\n${n.label}`)}`];
    if (n.kind === 'prd') attrs.push('shape=note');
    if (n.id === t.root) attrs.push('penwidth=3');
    lines.push(`  ${dotString(n.id)} [${attrs.join(', ')}];`);
  }
  for (const e of t.edges)
    lines.push(
      `  ${dotString(e.from)} -> ${dotString(e.to)}${e.kind === 'input' ? ' [style=dashed, label="input"]' : ''};`,
    );
  lines.push('}');
  return lines.join('\n');
}
