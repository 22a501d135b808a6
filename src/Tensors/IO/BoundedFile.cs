namespace NativeIg.Tensors.IO;

/// <summary>
/// Reads a whole input file with a size limit, so that a device (/dev/zero), a pipe (FIFO), a folder or
/// an unexpectedly huge file gives a clear error instead of an endless read, a read that blocks forever
/// or an out-of-memory crash. Symbolic links are followed to their final target, whose size and type count.
/// </summary>
public static class BoundedFile
{
    /// <summary>
    /// The file's bytes. <paramref name="error"/> makes the exception for a file that is not a regular
    /// file or is over <paramref name="maxBytes"/>; its message names the path and the kind of file.
    /// A missing file (or a link to nothing) is a <see cref="FileNotFoundException"/>.
    /// </summary>
    public static byte[] ReadAll(string path, long maxBytes, string kind, Func<string, Exception> error)
    {
        using var stream = OpenRegular(path, Math.Min(maxBytes, Array.MaxLength), kind, error); // one array holds it all
        try
        {
            var bytes = GC.AllocateUninitializedArray<byte>((int)stream.Length);
            stream.ReadExactly(bytes);
            // A regular file has nothing after its length; one that grows while it is read is refused.
            if (stream.ReadByte() != -1) throw error($"{path}: the file grew while it was read.");
            return bytes;
        }
        catch (EndOfStreamException) { throw error($"{path}: the file became shorter while it was read."); }
    }

    /// <summary>
    /// Opens a regular file for reading after checking, before it is opened, that it (or the final target
    /// of a link) is a regular file of 1 to <paramref name="maxBytes"/> bytes. A pipe, a socket or a device
    /// is refused without being opened (opening a FIFO blocks until a writer comes); after the open the
    /// handle is checked again (a file swapped for a pipe in between is refused).
    /// </summary>
    public static FileStream OpenRegular(string path, long maxBytes, string kind, Func<string, Exception> error)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(error);
        var target = RegularTarget(path, kind, error);
        long length = target.Length;
        if (length > maxBytes)
            throw error($"{path}: the file is {length:N0} bytes, over the {maxBytes:N0}-byte limit for a {kind} file.");
        FileStream stream;
        try { stream = new FileStream(target.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan); }
        catch (UnauthorizedAccessException e) { throw error($"{path}: cannot read the file ({e.Message})."); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"{path}: file not found.", path); }
        // A pipe, a socket or a character device cannot seek; a regular file can.
        if (!stream.CanSeek || stream.Length != length)
        {
            stream.Dispose();
            throw error($"{path}: not a regular file, or it changed while it was opened.");
        }
        return stream;
    }

    /// <summary>
    /// The regular file that <paramref name="path"/> names, through any chain of links, checked without
    /// opening it: a folder, a dangling link, an empty file, a pipe, a socket or a device is refused
    /// (Linux reports size 0 for pipes, sockets and devices; an empty file is no valid input either).
    /// </summary>
    public static FileInfo RegularTarget(string path, string kind, Func<string, Exception> error)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(error);
        if (Directory.Exists(path)) throw error($"{path}: is a folder, not a {kind} file.");
        var info = new FileInfo(path);
        FileSystemInfo? final = info;
        if (info.LinkTarget is not null)
        {
            try { final = info.ResolveLinkTarget(returnFinalTarget: true); }
            catch (IOException e) { throw error($"{path}: the link cannot be followed ({e.Message})."); }
        }
        if (final is DirectoryInfo || (final is not null && Directory.Exists(final.FullName)))
            throw error($"{path}: is a folder, not a {kind} file.");
        var file = final is null ? null : new FileInfo(final.FullName);
        if (file is null || !file.Exists)
            throw new FileNotFoundException(info.LinkTarget is null ? $"{path}: file not found." : $"{path}: a link to {info.LinkTarget}, which does not exist.", path);
        if (file.Length == 0)
            throw error($"{path}: not a regular file (a pipe, a socket or a device), or an empty one; nothing was read from it.");
        return file;
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
