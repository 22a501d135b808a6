namespace NativeIg.Tensors.IO;

/// <summary>
/// A bounds-checked cursor over one protobuf message in bytes [start, end), for the project's own
/// readers of protobuf files (Caffe's .caffemodel, ONNX) without a protobuf package. Every failure is
/// the exception <c>error</c> makes from a message that names the file (<c>source</c>), the place
/// (<c>where</c>) and the byte offset.
/// </summary>
internal struct ProtobufReader(byte[] bytes, int start, int end, string source, string where, Func<string, Exception> error)
{
    private int _position = start;

    public readonly bool HasMore => _position < end;

    public bool Next(out int field, out int wire)
    {
        field = wire = 0;
        if (_position >= end) return false;
        ulong key = Varint();
        if (key >> 3 > 536_870_911) throw Error($"field number {key >> 3} at byte {_position} is out of range");
        field = (int)(key >> 3);
        wire = (int)(key & 7);
        if (field == 0) throw Error($"field number 0 at byte {_position}");
        return true;
    }

    public ulong Varint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= end) throw Error($"a varint runs past the end of the message at byte {_position} (truncated file?)");
            byte b = bytes[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Error($"a varint longer than 10 bytes ends at byte {_position}");
    }

    public (int Start, int End) LengthDelimited()
    {
        ulong length = Varint();
        if (length > (ulong)(end - _position))
            throw Error($"a length of {length} bytes at byte {_position} runs past the end of the message ({end - _position} bytes left; truncated file?)");
        int s = _position;
        _position += (int)length;
        return (s, _position);
    }

    public string String()
    {
        var (s, e) = LengthDelimited();
        if (e - s > 4096) throw Error($"a {e - s}-byte name at byte {s} (names are short)");
        return ImageLoader.Printable(System.Text.Encoding.UTF8.GetString(bytes, s, e - s));
    }

    public float Fixed32AsFloat()
    {
        Need(4);
        float v = BitConverter.ToSingle(bytes, _position);
        _position += 4;
        return v;
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0: Varint(); break;
            case 1: Need(8); _position += 8; break;
            case 2: LengthDelimited(); break;
            case 5: Need(4); _position += 4; break;
            default: throw Error($"unsupported wire type {wire} at byte {_position}");
        }
    }

    private readonly void Need(int count)
    {
        if (end - _position < count) throw Error($"{count} bytes needed at byte {_position} but the message ends at {end} (truncated file?)");
    }

    /// <summary>An exception of the reader's kind for <paramref name="what"/>, naming the file and the place.</summary>
    public readonly Exception Error(string what) => error($"{source}: {where}: {what}.");

    /// <summary>The byte offset of the cursor (for messages).</summary>
    public readonly int Position => _position;

    public double Fixed64AsDouble()
    {
        Need(8);
        double v = BitConverter.ToDouble(bytes, _position);
        _position += 8;
        return v;
    }
}
