namespace NativeIg.Tensors.IO;

/// <summary>
/// Reads a whole input file with a size limit, so that a device (/dev/zero), a folder or an
/// unexpectedly huge file gives a clear error instead of an endless read or an out-of-memory crash.
/// </summary>
public static class BoundedFile
{
    /// <summary>
    /// The file's bytes. <paramref name="error"/> makes the exception for a file that is not a regular
    /// file or is over <paramref name="maxBytes"/>; its message names the path and the kind of file.
    /// A missing file is a <see cref="FileNotFoundException"/>.
    /// </summary>
    public static byte[] ReadAll(string path, long maxBytes, string kind, Func<string, Exception> error)
    {
        if (Directory.Exists(path)) throw error($"{path}: is a folder, not a {kind} file.");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: file not found.", path);
        long length = info.Length;
        if (length > maxBytes)
            throw error($"{path}: the file is {length:N0} bytes, over the {maxBytes:N0}-byte limit for a {kind} file.");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            var bytes = GC.AllocateUninitializedArray<byte>((int)length);
            stream.ReadExactly(bytes);
            // A device reports length 0 and never ends; a regular file has nothing after its length.
            if (stream.ReadByte() != -1) throw error($"{path}: not a regular file (a device, a pipe, or a file that is still growing).");
            return bytes;
        }
        catch (EndOfStreamException) { throw error($"{path}: the file became shorter while it was read."); }
        catch (UnauthorizedAccessException e) { throw error($"{path}: cannot read the file ({e.Message})."); }
    }

    /// <summary>
    /// A stream's bytes up to its end, refused once more than <paramref name="maxBytes"/> arrive (so an
    /// endless or huge stream costs at most that much memory). <paramref name="source"/> names it in errors.
    /// </summary>
    public static byte[] ReadAll(Stream stream, long maxBytes, string source, Func<string, Exception> error)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(error);
        if (!stream.CanRead) throw new ArgumentException($"{source}: the stream cannot be read.", nameof(stream));
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (copy.Length + read > maxBytes) throw error($"{source}: more than the {maxBytes:N0}-byte limit.");
            copy.Write(buffer, 0, read);
        }
        return copy.ToArray();
    }
}
