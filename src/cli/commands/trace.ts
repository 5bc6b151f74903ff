import { usageError } from '../../errors.js';
import type { TraceFormat } from '../../lineage/renderTrace.js';
import { defineCommand, flag, value } from '../command.js';
import { parseWholeNumber } from '../guards.js';

export default defineCommand({
  path: 'trace',
  description:
    'lineage of an event or PRD version (prd:ID@VERSION; prd:ID is the latest): ancestors, or --down, or --both',
  args: ['<id>'],
  options: {
    down: flag('descendants instead of ancestors'),
    both: flag('ancestors and descendants'),
    depth: value(
      '<n>',
      'how many steps (default 20); fast at any depth; says when lineage goes on past it',
    ),
    format: value('<format>', 'tree, table, json, mermaid or dot (default tree; json with --json)'),
  },
  async run({ out, options: o, args: [id], withDbRows }) {
    const [{ renderDot, renderMermaid, renderTree, TRACE_FORMATS }, { trace }] = await Promise.all([
      import('../../lineage/renderTrace.js'),
      import('../../lineage/trace.js'),
    ]);
    if (o.down && o.both) throw usageError('give --down or --both, not both');
    const format = (o.format ?? (out.json ? 'json' : 'tree')) as TraceFormat;
    if (!TRACE_FORMATS.includes(format))
      throw usageError(`unknown --format "${format}"; valid: ${TRACE_FORMATS.join(', ')}`);
    const depth = parseWholeNumber(o.depth, '--depth') ?? 20;
    const result = await withDbRows((eachRow) =>
      trace(eachRow, id, o.both ? 'both' : o.down ? 'down' : 'up', depth),
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
  },
});
