// Which rows of the account tree are visible, given which nodes are expanded. Structure
// only: the nodes, their order (pre-order by path) and their totals come from the engine.

import type { TreeNodeView } from "../bindings";

/** "assets:stripe:payments" → "assets:stripe"; a top-level account has no parent. */
export function parentAccount(account: string): string | null {
  const i = account.lastIndexOf(":");
  return i > 0 ? account.slice(0, i) : null;
}

/** A node hides its subtree only when it says it has children and is collapsed. */
export function isCollapsed(node: TreeNodeView, expanded: ReadonlySet<string>): boolean {
  return node.has_children && !expanded.has(node.account);
}

/** The visible nodes, in order: those with no collapsed ancestor. */
export function visibleNodes(nodes: readonly TreeNodeView[], expanded: ReadonlySet<string>): TreeNodeView[] {
  const out: TreeNodeView[] = [];
  let hideBelow: number | null = null;
  for (const node of nodes) {
    if (hideBelow !== null) {
      if (node.depth > hideBelow) continue;
      hideBelow = null;
    }
    out.push(node);
    if (isCollapsed(node, expanded)) hideBelow = node.depth;
  }
  return out;
}

/** The accounts expanded at first: the top two levels. */
export function initiallyExpanded(nodes: readonly TreeNodeView[]): string[] {
  return nodes.filter((n) => n.has_children && n.depth <= 1).map((n) => n.account);
}

/** Height of a tree row: one line per currency of its total. */
export const TREE_ROW_BASE = 30;
export const TREE_LINE = 19;

export function rowHeight(node: TreeNodeView): number {
  return TREE_ROW_BASE + Math.max(0, node.total.length - 1) * TREE_LINE;
}

/** offsets[i] = top of row i; offsets[n] = total height. */
export function rowOffsets(nodes: readonly TreeNodeView[]): number[] {
  const offsets = new Array<number>(nodes.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < nodes.length; i++) offsets[i + 1] = offsets[i]! + rowHeight(nodes[i]!);
  return offsets;
}

/** The index of the row at pixel `y` (binary search in the offsets). */
export function rowAt(offsets: readonly number[], y: number): number {
  let lo = 0;
  let hi = Math.max(0, offsets.length - 2);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
