using NativeIg.Tensors.IO;

namespace NativeIg.Onnx;

internal static partial class OnnxReader
{
    /// <summary>Constants' element sizes and tensors stored in files beside the model (ONNX external data).</summary>
    private sealed partial class Decoder
    {
        /// <summary>Bytes per value of a constant's data type.</summary>
        private int ElementSize(OnnxDataType type, string what) => type switch
        {
            OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
            OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.UInt64 => 8,
            OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Int16 or OnnxDataType.UInt16 => 2,
            OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool => 1,
            _ => throw new OnnxFormatException($"{source}: {what}: data type {type} is not supported for constants."),
        };

        /// <summary>Reads an external-data tensor: a file beside the model (no paths outside its folder), at offset/length, bounded.</summary>
        private byte[] ReadExternal(Dictionary<string, string> entries, string what, long count, OnnxDataType type)
        {
            if (!entries.TryGetValue("location", out var location) || location.Length == 0)
                throw new OnnxFormatException($"{source}: {what}: external data without a location.");
            if (directory is null) throw new OnnxFormatException($"{source}: {what}: external data '{location}' needs the model's folder; load the model from a file.");
            // The containment check resolves every link (a link inside the folder may point anywhere), as
            // ONNX Runtime's does; the file must be a regular one (a FIFO would block the read forever).
            string full;
            try
            {
                if (Path.IsPathRooted(location) || !RealPath.IsInside(Path.Combine(directory, location), directory))
                    throw new OnnxFormatException($"{source}: {what}: external data location '{location}' points outside the model's folder (links resolved).");
                full = RealPath.Resolve(Path.Combine(directory, location));
            }
            catch (IOException e) { throw new OnnxFormatException($"{source}: {what}: external data location '{location}': {e.Message}"); }
            if (!File.Exists(full)) throw new OnnxFormatException($"{source}: {what}: the external data file '{location}' is missing (looked for {full}).");
            long expected = count * ElementSize(type, what);
            long offset = 0, length = expected;
            if (entries.TryGetValue("offset", out var o) && !(long.TryParse(o, out offset) && offset >= 0))
                throw new OnnxFormatException($"{source}: {what}: external data offset '{o}' is not a byte offset.");
            if (entries.TryGetValue("length", out var l) && !(long.TryParse(l, out length) && length >= 0))
                throw new OnnxFormatException($"{source}: {what}: external data length '{l}' is not a byte count.");
            // The declared length must be the tensor's size, compared before anything is read.
            if (length != expected)
                throw new OnnxFormatException($"{source}: {what}: external data length {length:N0} bytes for {count:N0} values of {type} ({expected:N0} bytes expected).");
            try
            {
                using var stream = BoundedFile.OpenRegular(full, long.MaxValue, "external data", m => new OnnxFormatException($"{source}: {what}: {m}"));
                long fileLength = stream.Length;
                if (offset > fileLength || length > fileLength - offset) // no offset + length: it may overflow
                    throw new OnnxFormatException($"{source}: {what}: external data range {offset:N0}+{length:N0} does not fit '{location}' ({fileLength:N0} bytes).");
                stream.Seek(offset, SeekOrigin.Begin);
                var data = new byte[length];
                stream.ReadExactly(data);
                return data;
            }
            catch (FileNotFoundException) { throw new OnnxFormatException($"{source}: {what}: the external data file '{location}' is missing (looked for {full})."); }
            catch (IOException e) { throw new OnnxFormatException($"{source}: {what}: external data '{location}' cannot be read ({e.Message})."); }
        }
    }
}
