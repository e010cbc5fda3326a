// The address picked on the address list in "select" mode, read by the page that opened it (checkout, mall).
let selected: string | null = null;

export function selectAddress(id: string): void {
  selected = id;
}

export function takeSelectedAddress(): string | null {
  const id = selected;
  selected = null;
  return id;
}
