// Offline validation of Kubernetes objects against the API's schemas, as shipped on npm by kubernetes-models
// (core API), @kubernetes-models/prometheus-operator and @kubernetes-models/keda (CRDs):
//  - their validators (generated from the OpenAPI schemas: types, required fields, enums, formats), and
//  - a strict pass the validators lack: every field must be declared by the schema, like `kubectl apply
//    --validate=strict` (a misspelt `readinessProbes` is otherwise silently dropped by the API server). The
//    field lists come from the packages' TypeScript declarations, generated from the same schemas.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const nodeModules = fileURLToPath(new URL('../node_modules/', import.meta.url));

// apiVersion → where its models live.
function modelModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  if (group === 'keda.sh') return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  return group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group.replace(/\.k8s\.io$/, '.k8s.io')}/${version}/${kind}`;
}

// --- a reader for the declaration files' type syntax ------------------------------------------------------
function tokenize(text) {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const re = /\s*("(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*|-?\d+(?:\.\d+)?|=>|[{}()<>\[\];:,|&?=.*])/gy;
  const out = [];
  let m;
  while (re.lastIndex < src.length && (m = re.exec(src)) !== null) out.push(m[1]);
  return out;
}

class Parser {
  constructor(tokens) { this.t = tokens; this.i = 0; }
  peek(k = 0) { return this.t[this.i + k]; }
  next() { return this.t[this.i++]; }
  eat(tok) {
    if (this.t[this.i] !== tok) throw new Error(`expected ${tok}, got ${this.t[this.i]} at token ${this.i}`);
    this.i++;
  }
  type() {
    const alts = [this.postfix()];
    while (this.peek() === '|') { this.next(); alts.push(this.postfix()); }
    return alts.length === 1 ? alts[0] : { kind: 'union', alts };
  }
  postfix() {
    let t = this.primary();
    while (this.peek() === '[' && this.peek(1) === ']') { this.next(); this.next(); t = { kind: 'array', of: t }; }
    return t;
  }
  primary() {
    const tok = this.next();
    if (tok === '(') { const t = this.type(); this.eat(')'); return t; }
    if (tok === '{') return this.members();
    if (tok.startsWith('"')) return { kind: 'literal', value: JSON.parse(tok) };
    if (/^-?\d/.test(tok)) return { kind: 'literal', value: Number(tok) };
    if (tok === 'Array') { this.eat('<'); const of = this.type(); this.eat('>'); return { kind: 'array', of }; }
    if (tok === 'Record') { this.eat('<'); this.type(); this.eat(','); const of = this.type(); this.eat('>'); return { kind: 'map', of }; }
    if (['string', 'number', 'boolean', 'null', 'undefined'].includes(tok)) return { kind: 'prim', name: tok };
    if (['any', 'unknown', 'object', 'never'].includes(tok)) return { kind: 'any' };
    let name = tok;
    while (this.peek() === '.') { this.next(); name += `.${this.next()}`; }
    return { kind: 'ref', name };
  }
  // After '{': `"key"?: T;` members and `[key: string]: T;` index signatures, up to '}'.
  members() {
    const fields = new Map();
    let index = null;
    while (this.peek() !== '}') {
      if (this.peek() === '[') {
        this.next(); this.next(); this.eat(':'); this.type(); this.eat(']'); this.eat(':');
        index = this.type();
      } else {
        const raw = this.next();
        const key = raw.startsWith('"') ? JSON.parse(raw) : raw;
        if (this.peek() === '?') this.next();
        this.eat(':');
        fields.set(key, this.type());
      }
      if (this.peek() === ';' || this.peek() === ',') this.next();
    }
    this.eat('}');
    return { kind: 'object', fields, index };
  }
}

// One declaration file: its imports, interfaces, type aliases and `export type { A as B }` renames.
const files = new Map();
function readDecls(file) {
  if (files.has(file)) return files.get(file);
  const tokens = tokenize(fs.readFileSync(file, 'utf8'));
  const p = new Parser(tokens);
  const decl = { file, imports: new Map(), types: new Map(), renames: new Map() };
  while (p.i < tokens.length) {
    const tok = p.next();
    if (tok === 'import') {
      if (p.peek() === 'type') p.next();
      if (p.peek() !== '{') continue;
      p.next();
      const names = [];
      while (p.peek() !== '}') { const n = p.next(); if (n !== ',') names.push(n); }
      p.eat('}'); p.eat('from');
      const spec = JSON.parse(p.next());
      for (const n of names) decl.imports.set(n, spec);
    } else if (tok === 'export' && p.peek() === 'interface') {
      p.next();
      const name = p.next();
      const bases = [];
      if (p.peek() === 'extends') {
        p.next();
        while (p.peek() !== '{') { const b = p.next(); if (b !== ',') bases.push(b); }
      }
      p.eat('{');
      const body = p.members();
      if (bases.includes('TypeMeta')) {
        for (const k of ['apiVersion', 'kind']) if (!body.fields.has(k)) body.fields.set(k, { kind: 'prim', name: 'string' });
      }
      decl.types.set(name, body);
    } else if (tok === 'export' && p.peek() === 'type' && p.peek(1) === '{') {
      p.next(); p.next();
      while (p.peek() !== '}') {
        const a = p.next();
        if (a === ',') continue;
        if (p.peek() === 'as') { p.next(); decl.renames.set(p.next(), a); } else decl.renames.set(a, a);
      }
      p.eat('}');
    } else if (tok === 'export' && p.peek() === 'type') {
      p.next();
      const name = p.next();
      p.eat('=');
      decl.types.set(name, p.type());
    } else if (tok === 'export' && p.peek() === 'declare') {
      // `export declare class X ... { ... }`: skip its body (the interface carries the fields).
      while (p.i < tokens.length && p.peek() !== '{') p.next();
      let depth = 0;
      do { const t = p.next(); if (t === '{') depth++; else if (t === '}') depth--; } while (depth > 0 && p.i < tokens.length);
    }
  }
  files.set(file, decl);
  return decl;
}

function resolveSpec(fromFile, spec) {
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), spec.replace(/\.js$/, '.d.ts'));
  for (let dir = path.dirname(fromFile); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const f = path.join(dir, 'node_modules', `${spec}.d.ts`);
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`cannot resolve ${spec} from ${fromFile}`);
}

// The type a name stands for in a file: its own declaration, a rename of one, or an import.
function lookup(file, name, depth = 0) {
  if (depth > 20) throw new Error(`type ${name}: resolution loops`);
  const d = readDecls(file);
  const local = d.renames.get(name) ?? name;
  if (d.types.has(local)) return { file, type: d.types.get(local) };
  if (d.imports.has(name)) return lookup(resolveSpec(file, d.imports.get(name)), name, depth + 1);
  if (name === 'TypeMeta') return { file, type: { kind: 'any' } };
  throw new Error(`type ${name} not found in ${file}`);
}

// Errors for `value` against `type` (declared in `file`): undeclared fields and values of the wrong shape.
function check(value, type, file, at, errors) {
  switch (type.kind) {
    case 'any': return;
    case 'ref': {
      const r = lookup(file, type.name);
      check(value, r.type, r.file, at, errors);
      return;
    }
    case 'literal':
      if (value !== type.value) errors.push(`${at}: expected ${JSON.stringify(type.value)}, got ${JSON.stringify(value)}`);
      return;
    case 'prim':
      if (value === null && type.name === 'null') return;
      if (typeof value !== type.name) errors.push(`${at}: expected a ${type.name}, got ${JSON.stringify(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) { errors.push(`${at}: expected a list`); return; }
      value.forEach((v, i) => check(v, type.of, file, `${at}[${i}]`, errors));
      return;
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) { errors.push(`${at}: expected a map`); return; }
      for (const [k, v] of Object.entries(value)) check(v, type.of, file, `${at}.${k}`, errors);
      return;
    case 'object':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) { errors.push(`${at}: expected an object`); return; }
      for (const [k, v] of Object.entries(value)) {
        const ft = type.fields.get(k) ?? type.index;
        if (!ft) errors.push(`${at}.${k}: unknown field "${k}" (known: ${[...type.fields.keys()].join(', ')})`);
        else check(v, ft, file, `${at}.${k}`, errors);
      }
      return;
    case 'union': {
      let best = null;
      for (const alt of type.alts) {
        const e = [];
        check(value, alt, file, at, e);
        if (e.length === 0) return;
        if (!best || e.length < best.length) best = e;
      }
      errors.push(...best);
      return;
    }
    default:
      throw new Error(`unhandled type node ${type.kind}`);
  }
}

// Validates one object; returns a list of problems (empty when valid).
export async function validateObject(obj) {
  const where = `${obj?.kind ?? '?'}/${obj?.metadata?.name ?? '?'}`;
  if (!obj?.apiVersion || !obj?.kind) return [`${where}: apiVersion and kind are required`];
  const spec = modelModule(obj.apiVersion, obj.kind);
  const dts = path.join(nodeModules, `${spec}.d.ts`);
  if (!fs.existsSync(dts)) return [`${where}: no schema for ${obj.apiVersion} ${obj.kind} (${spec})`];
  const mod = await import(spec);
  const Model = mod[obj.kind];
  const problems = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
  const root = lookup(dts, `I${obj.kind}`);
  const errors = [];
  check(obj, root.type, root.file, where, errors);
  return problems.concat(errors);
}
