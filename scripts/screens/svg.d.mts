// Types for svg.mjs (the TypeScript tests import it).
import type { Run } from "./terminal.mjs";

export const theme: {
  background: string;
  border: string;
  titleBar: string;
  title: string;
  foreground: string;
  prompt: string;
  dots: string[];
  ansi: string[];
};

export const layout: {
  cols: number;
  fontSize: number;
  lineHeight: number;
  charWidth: number;
  padX: number;
  padTop: number;
  padBottom: number;
  titleBarHeight: number;
};

export function colorOf(color: string | null | undefined): string | null;
export function escapeXml(text: string): string;
export function renderSvg(screen: { command: string; lines: Run[][]; cols?: number }): string;
