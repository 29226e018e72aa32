// Reads one file out of a .zip archive: enough of the format (central directory, stored or deflated
// entries, CRC check) to take a binary out of a package's archive without an unzip tool. No zip64:
// entries and archives over 4 GiB are refused, not misread.
import { open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';

const endOfCentralDirectory = 0x06054b50;
const centralEntry = 0x02014b50;
const localHeader = 0x04034b50;
const zip64Marker = 0xffffffff;

export class ZipError extends Error {
  constructor(archive: string, message: string) {
    super(`${archive}: ${message}`);
    this.name = 'ZipError';
  }
}

/** The contents of the entry `name` in the archive, checked against its recorded size and CRC-32. */
export async function readZipEntry(archive: string, name: string): Promise<Buffer> {
  const file = await open(archive, 'r');
  try {
    const read = async (position: number, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead !== length) throw new ZipError(archive, `truncated at byte ${position + bytesRead}`);
      return buffer;
    };
    const { size } = await file.stat();
    // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = await read(size - tailLength, tailLength);
    let end = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === endOfCentralDirectory) {
        end = i;
        break;
      }
    }
    if (end === -1) throw new ZipError(archive, 'not a zip archive (no end of central directory)');
    const entries = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (directoryOffset === zip64Marker || directorySize === zip64Marker) throw new ZipError(archive, 'zip64 archives are not supported');

    const directory = await read(directoryOffset, directorySize);
    let at = 0;
    for (let n = 0; n < entries; n++) {
      if (directory.readUInt32LE(at) !== centralEntry) throw new ZipError(archive, `corrupt central directory at entry ${n}`);
      const method = directory.readUInt16LE(at + 10);
      const crc = directory.readUInt32LE(at + 16);
      const compressedSize = directory.readUInt32LE(at + 20);
      const uncompressedSize = directory.readUInt32LE(at + 24);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const headerOffset = directory.readUInt32LE(at + 42);
      const entryName = directory.toString('utf8', at + 46, at + 46 + nameLength);
      at += 46 + nameLength + extraLength + commentLength;
      if (entryName !== name) continue;

      if ([compressedSize, uncompressedSize, headerOffset].includes(zip64Marker)) throw new ZipError(archive, `${name}: zip64 entries are not supported`);
      const header = await read(headerOffset, 30);
      if (header.readUInt32LE(0) !== localHeader) throw new ZipError(archive, `${name}: corrupt local header`);
      const dataOffset = headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      const stored = await read(dataOffset, compressedSize);
      let data: Buffer;
      if (method === 0) data = stored;
      else if (method === 8) data = inflateRawSync(stored);
      else throw new ZipError(archive, `${name}: unsupported compression method ${method}`);
      if (data.length !== uncompressedSize || crc32(data) !== crc) throw new ZipError(archive, `${name}: size or CRC-32 mismatch`);
      return data;
    }
    throw new ZipError(archive, `no entry named ${name}`);
  } finally {
    await file.close();
  }
}
