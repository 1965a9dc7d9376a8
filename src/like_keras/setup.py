from setuptools import find_packages, setup

package_name = "like_keras"

setup(
    name=package_name,
    version="0.1.0",
    description="Describe a robot system once in Python, run it on any transport.",
    license="Apache-2.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    python_requires=">=3.10",
    install_requires=["numpy>=1.24", "pyarrow>=14", "pyyaml>=6", "mcap>=1.1", "rosbags>=0.10", "rich>=13",
                      "foxglove-sdk>=0.30", "packaging>=23"],
    extras_require={"test": ["pytest"]},
    zip_safe=True,
    entry_points={
        "console_scripts": [
            "like-keras = like_keras.cli:main",
            "lk = like_keras.cli:main",
        ],
        "like_keras.transports": [
            "native = like_keras.transports.native",
            "dora = like_keras.transports.dora",
        ],
    },
)
