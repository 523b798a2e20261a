export const DIST_DIR: string;
export const BUNDLE_PATH: string;
export function bundleFiles(): Promise<Record<string, string>>;
export function writeBundle(dir: string): Promise<string>;
export function writeAtomic(path: string, text: string): void;
