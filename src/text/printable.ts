// Text from task files and plans reaches terminals: control characters (an escape sequence can
// repaint or hide what a person reads) are shown escaped, like JSON would, never raw.

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
