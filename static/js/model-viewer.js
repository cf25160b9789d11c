// 3D preview of a listing's model. Progressive enhancement: the page shows the image
// gallery without JavaScript or WebGL; this module reveals a "View in 3D" panel only
// when WebGL works, and downloads the (public, simplified) preview copy only when the
// visitor asks for it. Orbit with drag, zoom with wheel/pinch, reset with the button.
import * as THREE from "three";
import { STLLoader } from "three/addons/loaders/STLLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return !!(window.WebGLRenderingContext && (canvas.getContext("webgl2") || canvas.getContext("webgl")));
  } catch (e) {
    return false;
  }
}

function mountViewer(root) {
  const stage = root.querySelector("[data-model-stage]");
  const status = root.querySelector("[data-model-status]");
  const resetButton = root.querySelector("[data-model-reset]");
  const url = root.dataset.src;

  const renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  stage.appendChild(renderer.domElement);

  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x444455, 2.2));
  const key = new THREE.DirectionalLight(0xffffff, 1.6);
  key.position.set(1, 1.5, 2);
  scene.add(key);

  const camera = new THREE.PerspectiveCamera(40, 1, 0.1, 10000);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;

  let home = null;
  function resize() {
    const width = stage.clientWidth || 600;
    const height = stage.clientHeight || 420;
    renderer.setSize(width, height, false);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
  }
  function reset() {
    if (!home) return;
    camera.position.copy(home.position);
    controls.target.copy(home.target);
    controls.update();
  }
  window.addEventListener("resize", resize);
  resetButton && resetButton.addEventListener("click", reset);
  resize();

  status.textContent = "Loading the 3D preview…";
  new STLLoader().load(
    url,
    (geometry) => {
      geometry.computeVertexNormals();
      geometry.computeBoundingBox();
      const box = geometry.boundingBox;
      const centre = box.getCenter(new THREE.Vector3());
      geometry.translate(-centre.x, -centre.y, -centre.z);
      const size = box.getSize(new THREE.Vector3()).length() || 1;
      const material = new THREE.MeshStandardMaterial({ color: 0xe8762c, roughness: 0.55, metalness: 0.05 });
      const mesh = new THREE.Mesh(geometry, material);
      mesh.rotation.x = -Math.PI / 2; // STL is Z-up; three.js is Y-up
      scene.add(mesh);
      camera.near = size / 100;
      camera.far = size * 100;
      home = { position: new THREE.Vector3(size * 0.9, size * 0.6, size * 0.9), target: new THREE.Vector3() };
      reset();
      status.textContent = "";
      root.classList.add("is-loaded");
    },
    undefined,
    () => {
      status.textContent = "The 3D preview could not be loaded. The pictures above show the model.";
    }
  );

  (function animate() {
    requestAnimationFrame(animate);
    controls.update();
    renderer.render(scene, camera);
  })();
}

document.querySelectorAll("[data-model-viewer]").forEach((root) => {
  if (!webglAvailable()) return; // stays hidden: the gallery is the fallback
  root.hidden = false;
  const open = root.querySelector("[data-model-open]");
  open.addEventListener(
    "click",
    () => {
      open.hidden = true;
      mountViewer(root);
    },
    { once: true }
  );
});
