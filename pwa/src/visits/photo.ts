// Visit photos: phones take 4–12 MB pictures; the server takes JPEG or PNG up to 5 MB. A picture is
// scaled down on the device (longest side 1600 px, JPEG) before it is kept or sent.

export const PHOTO_TYPES = ['image/jpeg', 'image/png'] as const;
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;
export const PHOTO_MAX_SIDE = 1600;

/** The size to draw a picture at so that its longest side is at most `max` (never enlarged). */
export function fitWithin(width: number, height: number, max = PHOTO_MAX_SIDE): { width: number; height: number } {
  if (width <= 0 || height <= 0) return { width: 0, height: 0 };
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export type PhotoProblem = 'type' | 'size' | null;

export function photoProblem(blob: Pick<Blob, 'size' | 'type'>): PhotoProblem {
  if (!(PHOTO_TYPES as readonly string[]).includes(blob.type)) return 'type';
  if (blob.size > PHOTO_MAX_BYTES) return 'size';
  return null;
}

/** A JPEG no larger than PHOTO_MAX_SIDE; the original when the browser cannot decode or it is small already. */
export async function shrinkPhoto(file: Blob): Promise<Blob> {
  if (typeof createImageBitmap !== 'function' || typeof document === 'undefined') return file;
  try {
    const bitmap = await createImageBitmap(file);
    const size = fitWithin(bitmap.width, bitmap.height);
    if (size.width === bitmap.width && size.height === bitmap.height && file.size <= PHOTO_MAX_BYTES && (PHOTO_TYPES as readonly string[]).includes(file.type)) {
      bitmap.close();
      return file;
    }
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, size.width, size.height);
    bitmap.close();
    const out = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
    return out ?? file;
  } catch {
    return file;
  }
}
