// The Python text rules the localization code uses; they live in src/python/.
export { hasLoneSurrogate, pyStrip } from '../python/text.ts';
