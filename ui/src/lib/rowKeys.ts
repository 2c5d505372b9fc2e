// Keyboard movement in a table of rows: which row a key moves to, or null when the key is
// not a movement key (the caller then leaves the event alone).

export function rowKeyTarget(key: string, index: number, pageRows: number, count: number): number | null {
  switch (key) {
    case "ArrowDown":
      return index + 1;
    case "ArrowUp":
      return index - 1;
    case "PageDown":
      return index + pageRows;
    case "PageUp":
      return index - pageRows;
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}
