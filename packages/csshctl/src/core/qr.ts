/** A QR code as text for a terminal (node-qrcode's terminal renderer, half-height blocks). */
export async function terminalQr(text: string): Promise<string> {
  const QRCode = await import('qrcode');
  return (await QRCode.toString(text, {type: 'terminal', small: true, errorCorrectionLevel: 'M'})).trimEnd();
}
