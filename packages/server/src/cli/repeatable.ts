/** Commander's argument parser for a flag that may be given several times: collects the values in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
