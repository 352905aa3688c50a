// Upload fixtures: a real X-ray from the shipped samples and a text file named like an image.
import { readFile } from 'node:fs/promises';

export async function fixtures() {
  return {
    xray: { name: 'wrist x-ray.jpg', mimeType: 'image/jpeg', buffer: await readFile('public/samples/oblique.jpg') },
    textAsPng: { name: 'not-an-image.png', mimeType: 'image/png', buffer: Buffer.from('this is text, not a PNG\n') },
  };
}
