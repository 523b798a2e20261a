export const ICON_PATH: string;
export const ICON_SIZE: number;
export function iconPng(size?: number): Buffer;
