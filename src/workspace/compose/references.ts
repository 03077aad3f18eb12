/** What the Compose schema cannot check: names that must be defined elsewhere in the project. */
import { formatPath, type ComposePath, type SchemaProblem } from './schema.ts';
import { isObj, networkNames, type Obj } from './model.ts';

/** What the schema cannot check: names that must be defined elsewhere in the same file. */
/**
 * `external`: the services the project's other files define; undefined when they are not known
 * (the file includes others that were not read), and then service references are not checked.
 * `included`: the file is included by another, which may declare the volumes and networks it uses.
 */
export function checkReferences(js: Obj, external: ReadonlySet<string> | undefined, included = false): SchemaProblem | undefined {
  if (external === undefined && js['include'] !== undefined) return undefined;
  external ??= new Set();
  const own = isObj(js['services']) ? js['services'] : {};
  const services: Obj = { ...Object.fromEntries([...external].map((n) => [n, {}])), ...own };
  const names = Object.keys(services);
  const known = names.length ? names.join(', ') : 'none';
  const volumes = isObj(js['volumes']) ? js['volumes'] : {};
  const networks = isObj(js['networks']) ? js['networks'] : {};
  const undefinedService = (path: ComposePath, target: string, key?: string): SchemaProblem => ({
    path,
    ...(key === undefined ? {} : { key }),
    message: `${formatPath(path)} refers to service '${target}', which is not defined in this file${external.size ? ' or the files it includes' : ''} (services: ${known})`,
  });

  for (const [name, svc] of Object.entries(own)) {
    if (!isObj(svc)) continue;
    const at = (...rest: ComposePath): ComposePath => ['services', name, ...rest];

    const dep = svc['depends_on'];
    if (Array.isArray(dep)) {
      for (const [i, d] of dep.entries()) {
        if (typeof d === 'string' && !(d in services)) return undefinedService(at('depends_on', i), d);
      }
    } else if (isObj(dep)) {
      for (const [d, cond] of Object.entries(dep)) {
        if (isObj(cond) && cond['required'] === false) continue;
        if (!(d in services)) return { ...undefinedService(at('depends_on'), d, d) };
      }
    }

    const links = svc['links'];
    if (Array.isArray(links)) {
      for (const [i, l] of links.entries()) {
        const target = typeof l === 'string' ? l.split(':')[0]! : '';
        if (target && !(target in services)) return undefinedService(at('links', i), target);
      }
    }

    const from = svc['volumes_from'];
    if (Array.isArray(from)) {
      for (const [i, f] of from.entries()) {
        if (typeof f !== 'string' || f.startsWith('container:')) continue;
        const target = f.replace(/^service:/, '').split(':')[0]!;
        if (!(target in services)) return undefinedService(at('volumes_from', i), target);
      }
    }

    const mode = svc['network_mode'];
    if (typeof mode === 'string' && mode.startsWith('service:')) {
      const target = mode.slice('service:'.length);
      if (!(target in services)) return undefinedService(at('network_mode'), target);
    }

    const ext = svc['extends'];
    const extTarget = typeof ext === 'string' ? ext : isObj(ext) && ext['file'] === undefined ? ext['service'] : undefined;
    if (typeof extTarget === 'string' && !(extTarget in services)) return undefinedService(at('extends'), extTarget);

    const vols = svc['volumes'];
    if (Array.isArray(vols)) {
      for (const [i, v] of vols.entries()) {
        const source = namedVolumeSource(v);
        if (source !== undefined && !included && !(source in volumes)) {
          return {
            path: at('volumes', i),
            message: `${formatPath(at('volumes', i))} uses volume '${source}', which is not declared under the top-level volumes: (add '${source}:' there)`,
          };
        }
      }
    }

    const nets = svc['networks'];
    const netNames = networkNames(nets);
    for (const n of netNames) {
      if (n !== 'default' && !included && !(n in networks)) {
        const path = at('networks');
        return {
          path,
          ...(Array.isArray(nets) ? {} : { key: n }),
          message: `${formatPath(path)} uses network '${n}', which is not declared under the top-level networks: (add '${n}:' there)`,
        };
      }
    }
  }
  return undefined;
}

/** The named volume a service volume entry uses, or undefined for bind mounts and anonymous ones. */
function namedVolumeSource(v: unknown): string | undefined {
  let source: unknown;
  if (typeof v === 'string') {
    const colon = v.indexOf(':');
    if (colon < 0) return undefined;
    source = v.slice(0, colon);
    if (/^[a-zA-Z]$/.test(source as string) && /^[\\/]/.test(v.slice(colon + 1))) return undefined; // C:\path
  } else if (isObj(v) && (v['type'] === 'volume' || v['type'] === undefined)) {
    source = v['source'];
  }
  return typeof source === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source) ? source : undefined;
}
