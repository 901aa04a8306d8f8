import { html } from 'htm/preact';

/**
 * An image with boxes drawn over it. Boxes come in pixels of the image the answer describes (`width` × `height`:
 * the stored, normalised image); they are placed in percent of that size, so they follow the image at any displayed
 * size. The frame reserves the image's aspect ratio before it loads, so nothing jumps.
 */
export function ImageWithBoxes({ src, width, height, alt, boxes = [], placeholder }) {
  const frameStyle = { aspectRatio: `${width} / ${height}` };
  return html`<figure class="stage" style=${frameStyle} data-width=${width} data-height=${height}>
    ${
      src
        ? html`<img class="stage-image" src=${src} alt=${alt} width=${width} height=${height} />`
        : html`<div class="stage-placeholder" role="img" aria-label=${alt}>${placeholder}</div>`
    }
    ${boxes.map(
      (box) =>
        html`<div
          key=${box.key}
          class=${`box box-${box.kind}`}
          style=${{
            left: `${(box.x / width) * 100}%`,
            top: `${(box.y / height) * 100}%`,
            width: `${(box.width / width) * 100}%`,
            height: `${(box.height / height) * 100}%`,
          }}
          data-kind=${box.kind}
          data-x=${box.x}
          data-y=${box.y}
          data-w=${box.width}
          data-h=${box.height}
          data-label=${box.label}
          title=${box.label}
          tabindex="0"
          role="img"
          aria-label=${box.label}
        ></div>`,
    )}
  </figure>`;
}
