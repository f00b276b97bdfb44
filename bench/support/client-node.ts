/** Loads @kubernetes/client-node (a devDependency, measured in bench/ only), on any Node.js this project supports. */
import { register } from 'node:module';
import type * as K8s from '@kubernetes/client-node';

export type ClientNode = typeof K8s;

/** The client-node module; on Node.js < 22.19 its undici is this project's (see client-node-hooks.ts). */
export async function loadClientNode(): Promise<ClientNode> {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 19)) register('./client-node-hooks.js', import.meta.url);
  return import('@kubernetes/client-node');
}
