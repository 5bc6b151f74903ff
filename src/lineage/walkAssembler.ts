export type TraceNode = {
  id: string;
  kind: 'event' | 'prd';
  /** Steps from the start; negative for ancestors and positive for descendants with --both. */
  distance: number;
  /** The node it was first reached from (the tree's parent), null for the start. */
  via: string | null;
  label: string;
  type: string | null;
  /** An event's occurred_at, a PRD version's archived_at. */
  occurred_at: string | null;
  /** L3 entries this node links to (cos-db link add). */
  links: ReadonlyArray<{ l3_ref: string; relation: string }>;
};

export type TraceEdge = { from: string; to: string; kind: 'parent' | 'input' };

/** A node as the walk's query returns it: an array (rowMode 'array', no object per row). */
export type NodeRow = [
  node: string,
  distance: number,
  type: string | null,
  actor: string | null,
  /** An event's occurred_at, a PRD version's archived_at: ISO text. */
  at: string | null,
  /** An event's parents and inputs (prd:ID@VERSION) in one array; null for a PRD version. */
  neighbours: string[] | null,
  title: string | null,
  version: number | null,
];

export type LinkList = Array<[l3_ref: string, relation: string]>;

/** Most nodes have no links: they share one empty list rather than make 47k of them. */
const NO_LINKS: TraceNode['links'] = Object.freeze([]);

const traceEdge = (from: string, to: string): TraceEdge => ({
  from,
  to,
  kind: from.startsWith('prd:') ? 'input' : 'parent',
});

const byId = (a: NodeRow, b: NodeRow) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Builds a walk's nodes while its rows arrive. Each node gets `via`, the node it was first
 * reached from: the smallest id among its neighbours one level nearer the start (parents and
 * inputs are one level farther going up, one nearer going down).
 *
 * A level is made into nodes (sorted by id, each with its via) as soon as a row of a deeper level
 * arrives, so that work is done while the server finds the levels after it. That a level's rows
 * all come before the next level's is what PostgreSQL does with a recursive query (each step's
 * rows follow the step before), not something SQL promises: a row for a level already made into
 * nodes is noticed, and then every level is made again, in order, at the end.
 */
export class WalkAssembler {
  /** Rows by level (their distance from the start). */
  private readonly rows: NodeRow[][] = [];
  /** Nodes by level, for the levels made so far. */
  private readonly nodes: TraceNode[][] = [];
  /** Levels 0 to made - 1 are made into nodes. */
  private made = 0;
  private disordered = false;
  /** Each node made so far, and its level. */
  private readonly level = new Map<string, number>();
  /** Going up: for a node of the next level, the smallest id among the nodes that name it. */
  private readonly nearest = new Map<string, string>();
  private readonly links = new Map<string, LinkList>();
  /** By level: the edges to its nodes from their neighbours among the nodes found. */
  private readonly edges: TraceEdge[][] = [];

  constructor(private readonly direction: 'up' | 'down') {}

  /** A node's row, in any order (best: level by level). */
  add(row: NodeRow): void {
    const distance = row[1];
    if (distance < this.made) this.disordered = true;
    (this.rows[distance] ??= []).push(row);
    if (!this.disordered) while (this.made < distance) this.make(this.made++);
  }

  /** A found node's L3 links (cos-db link add), oldest first. */
  addLinks(ref: string, links: LinkList): void {
    this.links.set(ref, links);
  }

  /** The number of nodes added. */
  get size(): number {
    return this.rows.reduce((sum, level) => sum + level.length, 0);
  }

  /** The nodes, by signed distance (ancestors are negative) then id, and the edges among them. */
  finish(): { nodes: TraceNode[]; edges: TraceEdge[] } {
    if (this.disordered) {
      this.made = 0;
      this.level.clear();
      this.nearest.clear();
      this.nodes.length = 0;
      this.edges.length = 0;
    }
    while (this.made < this.rows.length) this.make(this.made++);
    for (let d = 0; d < this.rows.length; d += 1) if (!this.edges[d]) this.edgesOf(d);
    // Deepest level first going up, copied by hand: Array.prototype.flat is slow on these.
    const inOrder = <T>(levels: T[][]): T[] => {
      const out: T[] = [];
      const up = this.direction === 'up';
      for (let d = 0; d < levels.length; d += 1)
        for (const item of levels[up ? levels.length - 1 - d : d] ?? []) out.push(item);
      return out;
    };
    const nodes = inOrder(this.nodes);
    const edges = inOrder(this.edges);
    if (this.links.size > 0)
      for (const node of nodes) {
        const links = this.links.get(node.id);
        if (links) node.links = links.map(([l3_ref, relation]) => ({ l3_ref, relation }));
      }
    return { nodes, edges };
  }

  /**
   * The edges to this walk's nodes past the start from the nodes given, in the order finish()
   * lists them: with --both, from the ancestors to the descendants, which neither walk crosses.
   */
  edgesFrom(from: ReadonlySet<string>): TraceEdge[] {
    const edges: TraceEdge[] = [];
    const levels = this.direction === 'up' ? [...this.rows].reverse() : this.rows;
    for (const level of levels)
      for (const [node, distance, , , , neighbours] of level)
        if (distance > 0)
          for (const neighbour of neighbours ?? [])
            if (from.has(neighbour)) edges.push(traceEdge(neighbour, node));
    return edges;
  }

  /** Level d into nodes: the levels before it are made, so every via it needs is known. */
  private make(d: number): void {
    const rows = (this.rows[d] ??= []).sort(byId);
    for (const row of rows) this.level.set(row[0], d);
    const sign = this.direction === 'up' ? -1 : 1;
    const nodes: TraceNode[] = [];
    for (const [id, , type, actor, at, neighbours, title, version] of rows) {
      let via: string | null = null;
      if (this.direction === 'up') {
        if (d > 0) via = this.nearest.get(id) ?? null;
        this.nearest.delete(id);
        // Its parents and inputs not yet made are one level farther, or beyond the walk.
        if (neighbours)
          for (let k = 0; k < neighbours.length; k += 1) {
            const next = neighbours[k] as string;
            if (this.level.has(next)) continue;
            const current = this.nearest.get(next);
            if (current === undefined || id < current) this.nearest.set(next, id);
          }
      } else if (neighbours)
        for (let k = 0; k < neighbours.length; k += 1) {
          const from = neighbours[k] as string;
          if (this.level.get(from) === d - 1 && (via === null || from < via)) via = from;
        }
      const isPrd = id.startsWith('prd:');
      nodes.push({
        id,
        kind: isPrd ? 'prd' : 'event',
        distance: d === 0 ? 0 : sign * d,
        via,
        label: isPrd
          ? `PRD ${title ?? '?'} v${version ?? '?'}`
          : (title ?? (actor ? `${type ?? '?'} by ${actor}` : (type ?? '?'))),
        type: isPrd ? null : type,
        occurred_at: at,
        links: NO_LINKS,
      });
    }
    this.nodes[d] = nodes;
    // Going up, a node's parents and inputs among the nodes found are at most one level
    // farther: the level before this one has all its edges now. Going down, a node's parents
    // may be found at any level, so its edges wait for the end.
    if (this.direction === 'up' && d > 0) this.edgesOf(d - 1);
  }

  /**
   * Every edge to level d's nodes from the nodes found: each the walk crossed, and those between
   * nodes at the depth limit.
   */
  private edgesOf(d: number): void {
    const edges: TraceEdge[] = [];
    for (const [node, , , , , neighbours] of this.rows[d] ?? [])
      if (neighbours)
        for (let k = 0; k < neighbours.length; k += 1) {
          const from = neighbours[k] as string;
          if (this.level.has(from)) edges.push(traceEdge(from, node));
        }
    this.edges[d] = edges;
  }
}
