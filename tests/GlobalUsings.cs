global using NativeIg.Tensors.IO;
