/** Which computer the person is on, to show the install steps for it first. */
export type Os = 'windows' | 'macos' | 'linux';

export function detectOs(userAgent: string, platform = ''): Os {
  const text = `${platform} ${userAgent}`;
  if (/Win/i.test(text)) return 'windows';
  if (/Mac|iPhone|iPad/i.test(text)) return 'macos';
  return 'linux';
}

export const OS_NAMES: Record<Os, string> = {windows: 'Windows', macos: 'macOS', linux: 'Linux'};

export function defaultDeviceLabel(os: Os): string {
  return {windows: 'Windows laptop', macos: 'Mac', linux: 'Linux computer'}[os];
}

/** Short install steps for the profile file, per system. */
export function installSteps(os: Os, file: string): string[] {
  switch (os) {
    case 'windows':
      return [
        'Install OpenVPN Connect from the company software centre (or openvpn.net) if it is not on your laptop yet.',
        'Open OpenVPN Connect, choose "Upload file", and pick ' + file + ' from your Downloads folder.',
        'Click "Connect". That is all: next time, just open OpenVPN Connect and click "Connect".',
      ];
    case 'macos':
      return [
        'Install Tunnelblick (or OpenVPN Connect) from the company Self Service app if it is not on your Mac yet.',
        'Double-click ' + file + ' in your Downloads folder; Tunnelblick asks whether to install it: choose "Only Me".',
        'Click the Tunnelblick icon in the menu bar and choose "Connect".',
      ];
    case 'linux':
      return [
        'Open Settings, then Network, then the + next to VPN, and choose "Import from file…".',
        'Pick ' + file + ' from your Downloads folder and click "Add".',
        'Switch the new VPN on. (In a terminal: nmcli connection import type openvpn file ' + file + '.)',
      ];
  }
}
