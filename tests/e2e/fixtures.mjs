// Upload fixtures: a real X-ray from the shipped samples and a text file named like an image;
// a labelled folder for fine-tuning.
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function fixtures() {
  return {
    xray: { name: 'wrist x-ray.jpg', mimeType: 'image/jpeg', buffer: await readFile('public/samples/oblique.jpg') },
    textAsPng: { name: 'not-an-image.png', mimeType: 'image/png', buffer: Buffer.from('this is text, not a PNG\n') },
  };
}

/** A picked folder: two known classes by either name, an unknown folder, a loose file and a corrupt image. */
export async function labelledFolder() {
  const root = join(await mkdtemp(join(tmpdir(), 'labelled-')), 'my x-rays');
  const files = {
    'Spiral Fracture/a.jpg': 'public/samples/spiral.jpg',
    'Spiral Fracture/b.jpg': 'public/samples/oblique.jpg',
    'avulsion/c.jpg': 'public/samples/avulsion.jpg',
    'avulsion/d.jpg': 'public/samples/comminuted.jpg',
    'greenstick/e.jpg': 'public/samples/greenstick.jpg',
    'greenstick/f.jpg': 'public/samples/hairline.jpg',
    'Stress fracture/g.jpg': 'public/samples/impacted.jpg',
  };
  for (const [path, source] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await copyFile(source, join(root, path));
  }
  await writeFile(join(root, 'greenstick/broken.jpg'), 'not a JPEG at all');
  await writeFile(join(root, 'notes.txt'), 'labels checked by hand');
  return root;
}

