/**
 * The launcher icon of an APK as PNG bytes. An icon resource resolves (through resources.arsc)
 * to one file per screen density: PNGs, and since Android 8 often an `<adaptive-icon>` XML in
 * `mipmap-anydpi-v26` whose foreground and background layers are drawables or colors. PNGs are
 * taken as they are (header checked); an adaptive icon uses the PNG fallbacks the APK ships for
 * older Androids when there are any, else its PNG layers are composed here (a `@color`
 * background becomes a solid fill). Vector layers cannot be rendered without an Android
 * runtime; such an icon is reported missing with the reason in `warnings`.
 */
import { ApkError } from './apk-errors.js';
import { decodeAxml, type AxmlElement, type AxmlValue } from './axml.js';
import type { ResourceValue } from './manifest.js';
import { composeLayers, encodePng, readPngHeader, solidImage, type RgbaImage } from './png-core.js';
import type { ResourceTable } from './resources.js';
import type { ApkZip } from './zip-reader.js';

/** One PNG density of the icon. */
export interface ApkIconInfo {
  /** Screen density in dpi (a file without a density qualifier counts as 160, mdpi). */
  density: number;
  /** Zip path of the PNG (for a composed adaptive icon: of its foreground layer). */
  path: string;
  width: number;
  height: number;
}

/** How the icon PNG was obtained. */
export type ApkIconSource = 'png' | 'adaptive-fallback' | 'adaptive-composed';

/** An icon with its PNG bytes. */
export interface ApkIcon extends ApkIconInfo {
  png: Buffer;
  source: ApkIconSource;
}

/** What `resolveIcons` found. */
export interface IconSet {
  /** Every density, ascending, with its bytes. */
  variants: ApkIcon[];
  /** Why the icon is missing or incomplete, for a person. */
  warnings: string[];
}

const ATTR_DRAWABLE = 0x01010199;
const ANDROID_NS = 'http://schemas.android.com/apk/res/android';
const TYPE_FIRST_COLOR = 0x1c;
const TYPE_LAST_COLOR = 0x1f;
const MAX_ICON_XML_BYTES = 1024 * 1024;
/** Largest icon or layer file read (real ones are tens of KiB). */
const MAX_ICON_FILE_BYTES = 4 * 1024 * 1024;
/**
 * Pixels decoded for all layers of one APK together: composing costs memory and time per
 * decoded pixel, and an adaptive icon has two layers per density.
 */
const MAX_DECODED_PIXELS_PER_APK = 8 * 1024 * 1024;
/** Launchers show the centre 72 dp of an adaptive icon's 108 dp layers. */
const ADAPTIVE_VISIBLE = 72 / 108;

function rank(density: number): number {
  return density === 0 ? 160 : density >= 0xfffe ? 1 : density;
}

interface File {
  path: string;
  density: number;
}

async function pngVariant(
  zip: ApkZip,
  file: File,
  source: ApkIconSource,
  warnings: string[],
): Promise<ApkIcon | undefined> {
  try {
    const png = await zip.readEntry(file.path, { maxBytes: MAX_ICON_FILE_BYTES });
    const { width, height } = readPngHeader(png);
    return { density: rank(file.density), path: file.path, width, height, png, source };
  } catch (e) {
    if (!(e instanceof ApkError)) throw e;
    // A broken icon file does not make the APK unreadable: report it and use the others.
    warnings.push(`icon ${file.path}: ${e.message}`);
    return undefined;
  }
}

function drawableOf(el: AxmlElement | undefined): AxmlValue | undefined {
  return el?.attributes.find((a) =>
    a.resourceId !== undefined && a.resourceId !== 0
      ? a.resourceId === ATTR_DRAWABLE
      : a.namespace === ANDROID_NS && a.name === 'drawable',
  )?.value;
}

type Layer = { kind: 'color'; argb: number } | { kind: 'pngs'; files: File[] } | { kind: 'none' };

function layerOf(value: AxmlValue | undefined, table: ResourceTable | undefined): Layer {
  if (value === undefined) return { kind: 'none' };
  if (
    value.type === 'other' &&
    value.dataType >= TYPE_FIRST_COLOR &&
    value.dataType <= TYPE_LAST_COLOR
  )
    return { kind: 'color', argb: value.value >>> 0 };
  if (value.type !== 'reference' || table === undefined) return { kind: 'none' };
  const color = table.color(value.value);
  if (color !== undefined) return { kind: 'color', argb: color };
  return { kind: 'pngs', files: table.files(value.value).filter((f) => f.path.endsWith('.png')) };
}

/**
 * The PNG decoder, loaded on first use: only an adaptive icon without PNG fallbacks needs it, and
 * its inflater costs the reader process's start about 10 ms.
 */
export function loadPngDecoder(): Promise<typeof import('./png.js')> {
  return import('./png.js');
}

/** Decodes layer PNGs against one APK's pixel budget (checked from the header, before decoding). */
class LayerDecoder {
  private left = MAX_DECODED_PIXELS_PER_APK;
  constructor(private readonly zip: ApkZip) {}

  async decode(path: string): Promise<RgbaImage> {
    const png = await this.zip.readEntry(path, { maxBytes: MAX_ICON_FILE_BYTES });
    const { width, height } = readPngHeader(png);
    if (width * height > this.left)
      throw new ApkError(
        'APK_PNG_INVALID',
        `icon layers need more than the ${MAX_DECODED_PIXELS_PER_APK} pixels decoded per APK`,
      );
    const image = (await loadPngDecoder()).decodePng(png);
    this.left -= width * height;
    return image;
  }
}

/** Composes an adaptive icon's PNG layers, one variant per density of the foreground. */
async function composeAdaptive(
  zip: ApkZip,
  xmlPath: string,
  table: ResourceTable | undefined,
  warnings: string[],
): Promise<ApkIcon[]> {
  let root: AxmlElement;
  try {
    root = decodeAxml(await zip.readEntry(xmlPath, { maxBytes: MAX_ICON_XML_BYTES }));
  } catch (e) {
    if (!(e instanceof ApkError)) throw e;
    warnings.push(`icon ${xmlPath}: ${e.message}`);
    return [];
  }
  if (root.name !== 'adaptive-icon') {
    warnings.push(`icon ${xmlPath}: a <${root.name}> drawable, not a PNG or adaptive icon`);
    return [];
  }
  const child = (name: string): AxmlElement | undefined =>
    root.children.find((c) => c.name === name);
  const fg = layerOf(drawableOf(child('foreground')), table);
  const bg = layerOf(drawableOf(child('background')), table);
  if (fg.kind !== 'pngs' || fg.files.length === 0) {
    warnings.push(`icon ${xmlPath}: adaptive icon foreground is not a PNG (vector?)`);
    return [];
  }
  const background = async (width: number, height: number, density: number): Promise<RgbaImage> => {
    if (bg.kind === 'color') return solidImage(width, height, bg.argb);
    if (bg.kind === 'pngs' && bg.files.length > 0) {
      // The background PNG closest in density to the foreground.
      const pick = [...bg.files].sort(
        (a, b) => Math.abs(rank(a.density) - density) - Math.abs(rank(b.density) - density),
      )[0]!;
      return decoder.decode(pick.path);
    }
    return solidImage(width, height, 0);
  };
  const decoder = new LayerDecoder(zip);
  const out: ApkIcon[] = [];
  // Densest first: when the budget runs out, the densities launchers use most are done.
  const byDensity = [...fg.files].sort((a, b) => rank(b.density) - rank(a.density));
  for (const f of byDensity) {
    try {
      const top = await decoder.decode(f.path);
      const density = rank(f.density);
      const bottom = await background(top.width, top.height, density);
      const image = composeLayers(bottom, top, top.width, top.height, ADAPTIVE_VISIBLE);
      out.push({
        density,
        path: f.path,
        width: image.width,
        height: image.height,
        png: encodePng(image),
        source: 'adaptive-composed',
      });
    } catch (e) {
      if (!(e instanceof ApkError)) throw e;
      warnings.push(`icon ${f.path}: ${e.message}`);
    }
  }
  return out;
}

/**
 * Every density of the icon `ref` as PNG bytes, ascending by density.
 * @param zip the opened APK
 * @param table its resources table (needed for a reference)
 * @param ref the application's (or launcher activity's) `android:icon`
 */
export async function resolveIcons(
  zip: ApkZip,
  table: ResourceTable | undefined,
  ref: ResourceValue | undefined,
): Promise<IconSet> {
  const warnings: string[] = [];
  if (ref === undefined) return { variants: [], warnings };
  const files: File[] =
    ref.kind === 'string'
      ? [{ path: ref.value, density: 0 }]
      : table === undefined
        ? []
        : table.files(ref.id);
  const pngs = files.filter((f) => f.path.endsWith('.png'));
  const xmls = files.filter((f) => f.path.endsWith('.xml'));
  const variants: ApkIcon[] = [];
  if (pngs.length > 0) {
    const source: ApkIconSource = xmls.length > 0 ? 'adaptive-fallback' : 'png';
    for (const f of pngs) {
      if (!zip.entries.has(f.path)) {
        warnings.push(`icon ${f.path} is named by resources.arsc but not in the APK`);
        continue;
      }
      const v = await pngVariant(zip, f, source, warnings);
      if (v !== undefined) variants.push(v);
    }
  } else if (xmls.length > 0) {
    const xml = [...xmls].sort((a, b) => rank(b.density) - rank(a.density))[0]!;
    if (zip.entries.has(xml.path))
      variants.push(...(await composeAdaptive(zip, xml.path, table, warnings)));
    else warnings.push(`icon ${xml.path} is named by resources.arsc but not in the APK`);
  } else if (files.length > 0) {
    warnings.push(`icon ${files[0]!.path} is not a PNG`);
  }
  variants.sort((a, b) => a.density - b.density || a.width - b.width);
  return { variants, warnings };
}

/**
 * The variant to show at `size` pixels: the smallest at least that wide, else the largest;
 * without a size, the largest (ties: the denser).
 */
export function pickIcon(variants: readonly ApkIcon[], size?: number): ApkIcon | undefined {
  const bySize = [...variants].sort((a, b) => a.width - b.width || a.density - b.density);
  if (size !== undefined) {
    const fit = bySize.find((v) => v.width >= size);
    if (fit !== undefined) return fit;
  }
  return bySize[bySize.length - 1];
}
