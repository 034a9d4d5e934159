#!/usr/bin/python3
"""Writes the seed corpora of fuzz_cascade_xml and fuzz_cascade_bin: small
hand-written cascades (Haar stumps, a Haar tree with a tilted feature, LBP,
the old haartraining layout) and their binary encodings made with
build/bench/detect_run's library through ctypes.
Run from the project root after building: /usr/bin/python3 tests/fuzz/make_cascade_seeds.py
"""
import ctypes
import os

HERE = os.path.dirname(os.path.abspath(__file__))

HAAR_STUMPS = """<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType><height>6</height><width>6</width>
  <featureParams><maxCatCount>0</maxCatCount></featureParams>
  <stages>
    <_><stageThreshold>0.</stageThreshold><weakClassifiers>
        <_><internalNodes>0 -1 0 0.</internalNodes><leafValues>-1. 1.</leafValues></_></weakClassifiers></_>
    <_><stageThreshold>0.5</stageThreshold><weakClassifiers>
        <_><internalNodes>0 -1 1 0.</internalNodes><leafValues>-1. 1.</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_><rects><_>0 0 6 6 -1.</_><_>0 0 6 3 2.</_></rects></_>
    <_><rects><_>0 0 6 6 -1.</_><_>0 0 3 6 2.</_></rects></_></features>
</cascade>
</opencv_storage>
"""

HAAR_TREE_TILTED = """<opencv_storage><cascade><stageType>BOOST</stageType>
<featureType>HAAR</featureType><height>8</height><width>8</width>
<featureParams><maxCatCount>0</maxCatCount></featureParams>
<stages><_><stageThreshold>-0.5</stageThreshold><weakClassifiers>
<_><internalNodes>1 -1 0 1.5e-02 0 -2 1 -3.e-03</internalNodes>
<leafValues>0.25 -0.5 0.75</leafValues></_></weakClassifiers></_></stages>
<features><_><rects><_>2 0 3 2 -1.</_><_>3 1 1 1 4.</_></rects><tilted>1</tilted></_>
<_><rects><_>0 0 8 4 -1.</_><_>0 2 8 2 2.</_><_>1 1 2 2 0.5</_></rects></_></features>
</cascade></opencv_storage>
"""

LBP = """<opencv_storage><cascade type_id="opencv-cascade-classifier">
<stageType>BOOST</stageType><featureType>LBP</featureType><height>9</height><width>9</width>
<featureParams><maxCatCount>256</maxCatCount></featureParams>
<stages><_><stageThreshold>-0.25</stageThreshold><weakClassifiers>
<_><internalNodes>0 -1 0 -1 -67130709 -21569 -1426120013 -1275125205 -21585 -16385 587145899</internalNodes>
<leafValues>-0.65 0.79</leafValues></_></weakClassifiers></_></stages>
<features><_><rect>0 0 3 3</rect></_></features></cascade></opencv_storage>
"""

OLD = """<?xml version="1.0"?>
<opencv_storage>
<tiny type_id="opencv-haar-classifier">
  <size>6 6</size>
  <stages>
    <_>
      <!-- stage 0 -->
      <trees>
        <_>
          <_>
            <feature><rects><_>0 0 6 6 -1.</_><_>0 0 6 3 2.</_></rects><tilted>0</tilted></feature>
            <threshold>0.</threshold>
            <left_node>1</left_node>
            <right_val>1.</right_val></_>
          <_>
            <feature><rects><_>0 0 6 6 -1.</_><_>0 0 3 6 2.</_></rects><tilted>0</tilted></feature>
            <threshold>0.</threshold>
            <left_val>-1.</left_val>
            <right_val>0.5</right_val></_></_></trees>
      <stage_threshold>0.</stage_threshold>
      <parent>-1</parent>
      <next>-1</next></_></stages></tiny>
</opencv_storage>
"""


def main():
    seeds = {'haar_stumps.xml': HAAR_STUMPS, 'haar_tree_tilted.xml': HAAR_TREE_TILTED,
             'lbp.xml': LBP, 'old_layout.xml': OLD}
    xml_dir = os.path.join(HERE, 'corpus', 'cascade_xml')
    bin_dir = os.path.join(HERE, 'corpus', 'cascade_bin')
    os.makedirs(xml_dir, exist_ok=True)
    os.makedirs(bin_dir, exist_ok=True)
    lib = ctypes.CDLL(os.path.join(HERE, '..', '..', 'build', 'lib', 'libfer.so'))
    lib.fer_last_error.restype = ctypes.c_char_p
    for name, text in seeds.items():
        with open(os.path.join(xml_dir, name), 'w') as f:
            f.write(text)
        data = text.encode()
        c = ctypes.c_void_p()
        if lib.fer_cascade_load_memory(data, len(data), ctypes.byref(c)) != 0:
            raise SystemExit('%s: %s' % (name, lib.fer_last_error().decode()))
        out, size = ctypes.c_void_p(), ctypes.c_size_t()
        lib.fer_cascade_encode(c, ctypes.byref(out), ctypes.byref(size))
        with open(os.path.join(bin_dir, name.replace('.xml', '.bin')), 'wb') as f:
            f.write(ctypes.string_at(out, size.value))
        lib.fer_free(out)
        lib.fer_cascade_free(c)


if __name__ == '__main__':
    main()
