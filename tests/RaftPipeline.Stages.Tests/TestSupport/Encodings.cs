using System.Text;

namespace RaftPipeline.Stages.Tests.TestSupport;

public static class Encodings
{
    // Registered in the property, not a field initializer: initializers run before a static constructor's body.
    public static Encoding Cp949
    {
        get
        {
            Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
            return Encoding.GetEncoding(949, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        }
    }

    public static byte[] ToCp949(string text) => Cp949.GetBytes(text);
    public static byte[] ToUtf8(string text) => new UTF8Encoding(false).GetBytes(text);
}
