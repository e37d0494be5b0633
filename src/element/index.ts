// The one-script embed: <script type="module" src="rclip-element.js"></script> defines <rclip-distance>.
import { defineRclipDistance } from './rclip-distance';

export { RclipDistanceElement, defineRclipDistance } from './rclip-distance';
export type { ElementImage, RclipDistanceDetail, RclipErrorDetail, RclipEventMap, RclipProgressDetail } from './rclip-distance';

defineRclipDistance();
