import { usageError } from '../../errors.js';
import {
  renderDot,
  renderMermaid,
  renderTree,
  TRACE_FORMATS,
  type TraceFormat,
} from '../../lineage/renderTrace.js';
import { trace } from '../../lineage/trace.js';
import type { Handler } from '../context.js';
import { parseWholeNumber } from '../guards.js';
import { withDbRows } from '../withDb.js';

export const handler: Handler = async (context) => {
  const { out, invocation } = context;
  const o = invocation.options as {
    down?: boolean;
    both?: boolean;
    depth?: string;
    format?: string;
  };
  if (o.down && o.both) throw usageError('give --down or --both, not both');
  const format = (o.format ?? (out.json ? 'json' : 'tree')) as TraceFormat;
  if (!TRACE_FORMATS.includes(format))
    throw usageError(`unknown --format "${format}"; valid: ${TRACE_FORMATS.join(', ')}`);
  const depth = parseWholeNumber(o.depth, '--depth') ?? 20;
  const result = await withDbRows(context, (eachRow) =>
    trace(eachRow, invocation.args[0] ?? '', o.both ? 'both' : o.down ? 'down' : 'up', depth),
  );
  if (format === 'json' || out.json) {
    out.document(result);
    return;
  }
  const render: Record<Exclude<TraceFormat, 'json'>, () => string> = {
    tree: () => renderTree(result),
    table: () =>
      out.table(
        ['distance', 'node', 'kind', 'label', 'reached from'],
        result.nodes.map((n) => [n.distance, n.id, n.kind, n.label, n.via ?? '']),
      ),
    mermaid: () => renderMermaid(result),
    dot: () => renderDot(result),
  };
  const more = `(lineage goes on past --depth ${depth}: raise it to see more)`;
  out.result(result, () =>
    result.truncated && (format === 'tree' || format === 'table')
      ? `${render[format]()}\n${more}`
      : render[format](),
  );
};
