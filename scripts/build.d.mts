export const BUNDLE_PATH: string;
export function bundle(): Promise<string>;
export function writeAtomic(path: string, text: string): void;
