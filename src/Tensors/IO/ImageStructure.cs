using System.Buffers.Binary;

namespace NativeIg.Tensors.IO;

/// <summary>
/// Checks an image file's structure before any decoder sees it: the format is one of those checked
/// here (JPEG, PNG, BMP, GIF), the header's size is sane, the file holds all the parts the format
/// needs (a truncated file is an error, not an image padded with grey), and the declared pixel count
/// is within the limit and within what the file's bytes can possibly encode (so a tiny file cannot
/// decode into gigabytes). stb_image spins forever on some truncated JPEGs and pads missing data
/// silently; with these checks such files never reach it.
/// </summary>
public static class ImageStructure
{
    /// <summary>The default limit on width × height: 64 megapixels (a 9248×6936 photo; 768 MB as float RGB).</summary>
    public const long DefaultMaxPixels = 64_000_000;

    /// <summary>The format and size of a file that passed every check.</summary>
    public readonly record struct Header(string Format, int Width, int Height);

    /// <summary>Throws <see cref="ImageFormatException"/> naming <paramref name="source"/> unless the bytes are a complete, bounded image.</summary>
    public static Header Check(ReadOnlySpan<byte> bytes, string source, long maxPixels = DefaultMaxPixels)
    {
        if (maxPixels < 1) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, "The pixel limit must be at least 1.");
        if (bytes.Length == 0) throw new ImageFormatException($"{source}: the file is empty.");
        Header header;
        long ceiling; // the most pixels these bytes can encode in this format
        if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) (header, ceiling) = Jpeg(bytes, source);
        else if (bytes.StartsWith(PngSignature)) (header, ceiling) = Png(bytes, source);
        else if (bytes.StartsWith("BM"u8)) (header, ceiling) = Bmp(bytes, source);
        else if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8)) (header, ceiling) = Gif(bytes, source);
        else throw new ImageFormatException($"{source}: not a supported image: JPEG, PNG, BMP or GIF (or a .npy array) expected.");
        long pixels = (long)header.Width * header.Height;
        if (header.Width < 1 || header.Height < 1)
            throw new ImageFormatException($"{source}: the {header.Format} header gives an empty image ({header.Width}×{header.Height}).");
        if (pixels > maxPixels)
            throw new ImageFormatException($"{source}: the {header.Format} is {header.Width}×{header.Height} = {pixels / 1e6:0.#} megapixels, over the limit of {maxPixels / 1e6:0.#} megapixels.");
        if (pixels > ceiling)
            throw new ImageFormatException($"{source}: the {header.Format} header says {header.Width}×{header.Height} pixels, more than its {bytes.Length} bytes can hold (a damaged file or a decompression bomb).");
        return header;
    }

    /// <summary>
    /// JPEG: SOI, then length-delimited segments that fit the file; a frame header (SOF) before the
    /// first scan; every scan's entropy-coded data followed by a marker; and an end-of-image marker.
    /// A baseline block costs at least 2 bits and a progressive DC scan 1 bit per block, so no JPEG
    /// encodes more than 64·8 pixels per byte; 1024 leaves room for headers.
    /// </summary>
    private static (Header, long) Jpeg(ReadOnlySpan<byte> b, string source)
    {
        int width = 0, height = 0, position = 2;
        bool frame = false, scan = false;
        while (true)
        {
            if (position >= b.Length) throw Truncated(source, "JPEG", scan ? "no end-of-image marker" : "it ends before the image data");
            if (b[position] != 0xFF) throw new ImageFormatException($"{source}: the JPEG is damaged (no marker at byte {position}).");
            while (position < b.Length && b[position] == 0xFF) position++; // fill bytes
            if (position >= b.Length) throw Truncated(source, "JPEG", "it ends inside a marker");
            byte marker = b[position++];
            if (marker == 0xD9)
            {
                if (!scan) throw new ImageFormatException($"{source}: the JPEG ends (end-of-image marker) before any image data.");
                break;
            }
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue; // markers without a length
            if (marker is 0xD8 or 0x00) throw new ImageFormatException($"{source}: the JPEG is damaged (marker 0x{marker:X2} at byte {position - 1}).");
            if (position + 2 > b.Length) throw Truncated(source, "JPEG", "it ends inside a segment header");
            int length = BinaryPrimitives.ReadUInt16BigEndian(b[position..]);
            if (length < 2 || position + length > b.Length) throw Truncated(source, "JPEG", $"a segment of {length} bytes at byte {position} runs past the end");
            var segment = b.Slice(position + 2, length - 2);
            position += length;
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (segment.Length < 6) throw new ImageFormatException($"{source}: the JPEG frame header is too short.");
                height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                int components = segment[5];
                if (components is not (1 or 3 or 4) || segment.Length < 6 + 3 * components)
                    throw new ImageFormatException($"{source}: the JPEG frame header declares {components} components (1, 3 or 4 expected).");
                if (height == 0) throw new ImageFormatException($"{source}: the JPEG gives its height after the data (DNL), which is not supported.");
                frame = true;
            }
            else if (marker == 0xDA)
            {
                if (!frame) throw new ImageFormatException($"{source}: the JPEG has image data before its frame header.");
                scan = true;
                // Entropy-coded data: runs to the next marker that is neither a stuffed 0xFF00 nor a restart marker.
                while (true)
                {
                    int next = b[position..].IndexOf((byte)0xFF);
                    if (next < 0 || position + next + 1 >= b.Length) throw Truncated(source, "JPEG", "no end-of-image marker after the image data");
                    position += next;
                    byte after = b[position + 1];
                    if (after == 0x00 || after is >= 0xD0 and <= 0xD7 || after == 0xFF) { position += after == 0xFF ? 1 : 2; continue; }
                    break;
                }
            }
        }
        return (new Header("JPEG", width, height), 1024L * b.Length);
    }

    /// <summary>
    /// PNG: IHDR first with a valid depth and colour type, every chunk inside the file, image data, and
    /// IEND. Deflate expands at most 1032:1, so the filtered rows cannot exceed 1032 × the IDAT bytes.
    /// </summary>
    private static (Header, long) Png(ReadOnlySpan<byte> b, string source)
    {
        int position = 8, width = 0, height = 0, channels = 0, depth = 0;
        long idat = 0;
        bool first = true, end = false;
        while (!end)
        {
            if (position + 8 > b.Length) throw Truncated(source, "PNG", "no IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(b[position..]);
            var type = b.Slice(position + 4, 4);
            if (length > int.MaxValue || position + 12L + length > b.Length) throw Truncated(source, "PNG", $"a chunk of {length} bytes at byte {position} runs past the end");
            var data = b.Slice(position + 8, (int)length);
            if (first)
            {
                if (!type.SequenceEqual("IHDR"u8) || length != 13) throw new ImageFormatException($"{source}: the PNG does not start with a 13-byte IHDR chunk.");
                uint w = BinaryPrimitives.ReadUInt32BigEndian(data), h = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue) throw new ImageFormatException($"{source}: the PNG header gives a size of {w}×{h}.");
                (width, height, depth) = ((int)w, (int)h, data[8]);
                channels = data[9] switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
                bool depthOk = data[9] switch { 0 => depth is 1 or 2 or 4 or 8 or 16, 3 => depth is 1 or 2 or 4 or 8, _ => depth is 8 or 16 };
                if (channels == 0 || !depthOk) throw new ImageFormatException($"{source}: the PNG header gives colour type {data[9]} with bit depth {depth}, which is not valid.");
                first = false;
            }
            else if (type.SequenceEqual("IDAT"u8)) idat += length;
            else if (type.SequenceEqual("IEND"u8)) end = true;
            position += 12 + (int)length;
        }
        if (idat == 0) throw new ImageFormatException($"{source}: the PNG has no image data (IDAT).");
        long rowBytes = 1 + ((long)width * channels * depth + 7) / 8;
        // The largest height·width whose rows fit in 1032·idat bytes, for this width.
        long maxRows = (1032 * idat + 1024) / rowBytes;
        return (new Header("PNG", width, height), maxRows >= height ? long.MaxValue : maxRows * width);
    }

    /// <summary>BMP: uncompressed (BI_RGB or BI_BITFIELDS) only, and every row of pixels inside the file.</summary>
    private static (Header, long) Bmp(ReadOnlySpan<byte> b, string source)
    {
        if (b.Length < 26) throw Truncated(source, "BMP", "it ends inside the header");
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(b[10..]);
        uint infoSize = BinaryPrimitives.ReadUInt32LittleEndian(b[14..]);
        int width, height, bits, compression = 0;
        if (infoSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(b[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(b[20..]);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(b[24..]);
        }
        else if (infoSize is 40 or 52 or 56 or 108 or 124)
        {
            if (b.Length < 14 + infoSize) throw Truncated(source, "BMP", "it ends inside the header");
            width = BinaryPrimitives.ReadInt32LittleEndian(b[18..]);
            height = BinaryPrimitives.ReadInt32LittleEndian(b[22..]);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(b[28..]);
            compression = (int)BinaryPrimitives.ReadUInt32LittleEndian(b[30..]);
        }
        else throw new ImageFormatException($"{source}: the BMP has an unknown header size ({infoSize} bytes).");
        if (height == int.MinValue) throw new ImageFormatException($"{source}: the BMP header gives a height of {height}.");
        height = Math.Abs(height); // negative: rows stored top-down
        if (bits is not (1 or 4 or 8 or 16 or 24 or 32)) throw new ImageFormatException($"{source}: the BMP has {bits} bits per pixel (1, 4, 8, 16, 24 or 32 expected).");
        if (compression is not (0 or 3)) throw new ImageFormatException($"{source}: compressed BMP files (compression {compression}) are not supported; save it uncompressed or as PNG.");
        if (width < 1 || height < 1) throw new ImageFormatException($"{source}: the BMP header gives a size of {width}×{height}.");
        long stride = ((long)width * bits + 31) / 32 * 4;
        long needed = offset + stride * height;
        if (offset < 14 + infoSize || needed > b.Length)
            throw Truncated(source, "BMP", $"{width}×{height} at {bits} bits needs {needed} bytes, the file has {b.Length}");
        return (new Header("BMP", width, height), long.MaxValue);
    }

    /// <summary>
    /// GIF: the logical screen, colour tables and blocks inside the file up to the end of the first
    /// image's data. A 12-bit LZW code stands for at most 4096 pixels and takes at least 3 bits, so the
    /// screen (what the decoder allocates) is bounded by ~11,000 pixels per byte of image data.
    /// </summary>
    private static (Header, long) Gif(ReadOnlySpan<byte> b, string source)
    {
        if (b.Length < 13) throw Truncated(source, "GIF", "it ends inside the header");
        int width = BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), height = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]);
        int position = 13;
        if ((b[10] & 0x80) != 0) position += 3 << ((b[10] & 7) + 1);
        while (true)
        {
            if (position >= b.Length) throw Truncated(source, "GIF", "no image in the file");
            byte block = b[position++];
            if (block == 0x3B) throw new ImageFormatException($"{source}: the GIF has no image.");
            if (block == 0x21)
            {
                if (position >= b.Length) throw Truncated(source, "GIF", "it ends inside an extension");
                position = SkipSubBlocks(b, position + 1, source, out _);
            }
            else if (block == 0x2C)
            {
                if (position + 9 > b.Length) throw Truncated(source, "GIF", "it ends inside an image descriptor");
                int left = BinaryPrimitives.ReadUInt16LittleEndian(b[position..]), top = BinaryPrimitives.ReadUInt16LittleEndian(b[(position + 2)..]);
                int w = BinaryPrimitives.ReadUInt16LittleEndian(b[(position + 4)..]), h = BinaryPrimitives.ReadUInt16LittleEndian(b[(position + 6)..]);
                byte flags = b[position + 8];
                position += 9;
                if (w == 0 || h == 0 || left + w > width || top + h > height)
                    throw new ImageFormatException($"{source}: the GIF's first image ({w}×{h} at {left},{top}) does not lie inside its {width}×{height} screen.");
                if ((flags & 0x80) != 0) position += 3 << ((flags & 7) + 1);
                if (position >= b.Length) throw Truncated(source, "GIF", "it ends before the image data");
                int codeSize = b[position];
                if (codeSize is < 2 or > 11) throw new ImageFormatException($"{source}: the GIF's LZW code size {codeSize} is not valid.");
                position = SkipSubBlocks(b, position + 1, source, out long dataBytes);
                RequireGifTrailer(b, position, source);
                return (new Header("GIF", width, height), dataBytes * 11_000);
            }
            else throw new ImageFormatException($"{source}: the GIF is damaged (block 0x{block:X2} at byte {position - 1}).");
        }
    }

    /// <summary>The rest of the file is whole: extensions and further images, each complete, then the trailer 0x3B.</summary>
    private static void RequireGifTrailer(ReadOnlySpan<byte> b, int position, string source)
    {
        while (true)
        {
            if (position >= b.Length) throw Truncated(source, "GIF", "no trailer after the last block");
            byte block = b[position++];
            if (block == 0x3B) return;
            if (block == 0x21 && position < b.Length) position = SkipSubBlocks(b, position + 1, source, out _);
            else if (block == 0x2C && position + 9 <= b.Length)
            {
                byte flags = b[position + 8];
                position += 9;
                if ((flags & 0x80) != 0) position += 3 << ((flags & 7) + 1);
                if (position >= b.Length) throw Truncated(source, "GIF", "it ends before an image's data");
                position = SkipSubBlocks(b, position + 1, source, out _);
            }
            else throw Truncated(source, "GIF", $"block 0x{block:X2} at byte {position - 1}");
        }
    }

    private static int SkipSubBlocks(ReadOnlySpan<byte> b, int position, string source, out long total)
    {
        total = 0;
        while (true)
        {
            if (position >= b.Length) throw Truncated(source, "GIF", "it ends inside a data block");
            int size = b[position++];
            if (size == 0) return position;
            if (position + size > b.Length) throw Truncated(source, "GIF", "a data block runs past the end");
            position += size;
            total += size;
        }
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static ImageFormatException Truncated(string source, string format, string detail) =>
        new($"{source}: the {format} file is truncated or damaged ({detail}).");
}
